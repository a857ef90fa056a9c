package dev.sluice.engine.operate;

import java.sql.SQLException;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

import javax.sql.DataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.ControlRequest;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.NextStep;
import dev.sluice.engine.checkpoint.JobRuns;
import dev.sluice.engine.checkpoint.Work;
import dev.sluice.engine.control.Audit;
import dev.sluice.engine.control.ControlMailbox;
import dev.sluice.engine.control.Tuning;
import dev.sluice.engine.launch.EngineContext;
import dev.sluice.engine.spec.JobSpec;

/**
 * Operators' requests to a job from any process. A request is about the work the job's state describes: its backfill,
 * or the validation, repair or rollback that runs or waits to be continued (a cancel of an extra validation cancels
 * that validation, and the job keeps its verdict). A running job gets them through the control mailbox and takes
 * them within a chunk; the reply says the state the job reached and what continues it. A job that is not running can
 * be cancelled (if its work is unfinished), which is recorded at once, or tuned (if resumable): the new throttle
 * waits in the mailbox for the runner that resumes it.
 */
public final class OperatorControl {

    // After the runner lets go of the job, its last execution's status is written a moment later at most.
    private static final Duration SETTLE = Duration.ofSeconds(5);
    private static final long POLL_MILLIS = 100;

    private final EngineContext context;
    private final JobRuns runs;
    private final DataSource dataSource;
    private final String schema;

    public OperatorControl(EngineContext context) {
        this.context = context;
        this.runs = context.runs();
        this.dataSource = context.dataSource();
        this.schema = context.schema();
    }

    /**
     * Asks job {@code name} to pause, cancel or change its throttle, and waits up to {@code wait} for a running job
     * to take the request.
     *
     * @return what happened, in one line; {@code ok} false when the request does not apply now
     */
    public Backfill.ControlResult control(
            String name, ControlRequest request, Duration wait, String by, Audit.Entry audit)
            throws SQLException, InterruptedException {
        JobStatus before = read(name);
        String verb = request.command().name().toLowerCase(Locale.ROOT);
        if (!before.running()) {
            boolean resumable = (before.state() == JobStatus.State.FAILED
                            || before.state() == JobStatus.State.STOPPED
                            || before.state() == JobStatus.State.PAUSED)
                    && unfinished(name, before.work());
            if (request.command() == ControlRequest.Command.CANCEL && resumable) {
                runs.cancel(Work.Kind.of(before.work()).jobOf(name));
                Reached reached = reached(name, before.work(), read(name));
                return new Backfill.ControlResult(
                        true,
                        "job " + name + ": cancelled at once (it was " + before.state() + ", not running); "
                                + reached.text(),
                        reached.next());
            }
            if (request.command() == ControlRequest.Command.TUNE && resumable) {
                runs.ensureSchema();
                keepTune(name, request, by);
                runs.mailbox().send(name, request, by, audit);
                return new Backfill.ControlResult(
                        true,
                        "job " + name + " is " + before.state() + "; the new throttle applies when it resumes, and to"
                                + " its later work",
                        NextStep.continues(before.work(), name));
            }
            if (request.command() == ControlRequest.Command.TUNE
                    && request.rowsPerSecond() != null
                    && before.state() == JobStatus.State.COMPLETED) {
                // Done, but a validation, a repair or a rollback may follow: they run at the tuned rate.
                runs.ensureSchema();
                keepTune(name, request, by);
                return new Backfill.ControlResult(
                        true,
                        "job " + name + " is COMPLETED; the new rate applies to its next"
                                + " work (a validation, a repair, a rollback)");
            }
            return new Backfill.ControlResult(
                    false, "job " + name + " is not running (" + before.state() + "); nothing" + " to " + verb);
        }
        runs.ensureSchema();
        ControlMailbox mailbox = runs.mailbox();
        mailbox.send(name, request, by, audit);
        long deadline = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < deadline) {
            if (request.command() == ControlRequest.Command.TUNE) {
                if (!mailbox.pending(name)) {
                    return new Backfill.ControlResult(true, "job " + name + ": tune taken");
                }
            } else if (!read(name).running()) {
                Reached reached = reached(name, before.work(), settled(name));
                return new Backfill.ControlResult(
                        true, "job " + name + ": " + verb + " taken; " + reached.text(), reached.next());
            }
            Thread.sleep(POLL_MILLIS);
        }
        return new Backfill.ControlResult(
                true, "job " + name + ": " + verb + " requested; the runner takes it after its" + " current chunk");
    }

    /** Whether the job's {@code work} has an execution that has not ended (one a cancel can end for good). */
    private boolean unfinished(String name, JobStatus.Work work) throws SQLException {
        return runs.last(Work.Kind.of(work).jobOf(name))
                .map(r -> !r.state().ended())
                .orElse(false);
    }

    /** Where a request left the job, in words, and the way on from there. */
    private record Reached(String text, NextStep next) {}

    /**
     * The state the job reached once its {@code work} stopped, and what continues it: the work itself if it is not
     * the backfill ("its validation is CANCELLED"), then the job's state if that differs.
     */
    private static Reached reached(String name, JobStatus.Work work, JobStatus now) {
        if (work == JobStatus.Work.BACKFILL || now.work() == work) {
            String failure = now.state() == JobStatus.State.FAILED && now.lastError() != null
                    ? " (" + now.lastError() + ")"
                    : "";
            return new Reached("now " + now.state() + failure, now.next());
        }
        String what = work.name().toLowerCase(Locale.ROOT);
        JobStatus.State state = now.state() == JobStatus.State.PAUSED || now.state() == JobStatus.State.STOPPED
                ? now.state()
                : JobStatus.State.CANCELLED;
        return new Reached(
                "its " + what + " is " + state + "; job " + name + " stays " + now.state()
                        + (now.validation() != null && now.validation().complete() ? " with its last verdict" : ""),
                state == JobStatus.State.CANCELLED ? NextStep.afterCancel(work, name) : NextStep.continues(work, name));
    }

    /** An operator's rate, kept with the job for all its later work (see {@link Tuning}). */
    private void keepTune(String name, ControlRequest request, String by) throws SQLException {
        if (request.rowsPerSecond() == null) {
            return;
        }
        Optional<JobSpec> spec = context.recordedSpec(name);
        if (spec.isPresent()) {
            Tuning.save(
                    dataSource,
                    schema,
                    name,
                    request.rowsPerSecond(),
                    spec.get().throttle().rowsPerSecond(),
                    by);
        }
    }

    /** The state the job ends in once its runner has let go (its status row is written just before or after). */
    private JobStatus settled(String name) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + SETTLE.toNanos();
        JobStatus now = read(name);
        while (System.nanoTime() < deadline
                && (now.running()
                        || (now.state() == JobStatus.State.FAILED
                                && now.lastError() != null
                                && now.lastError().startsWith("the runner ended without recording it")))) {
            Thread.sleep(POLL_MILLIS);
            now = read(name);
        }
        return now;
    }

    private JobStatus read(String name) throws SQLException {
        return context.status(name);
    }
}
