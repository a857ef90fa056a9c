package dev.sluice.engine;

import java.sql.SQLException;
import java.time.Duration;
import java.util.List;

import dev.sluice.engine.checkpoint.JobRuns;
import dev.sluice.engine.control.ControlMailbox;
import dev.sluice.engine.control.JobStatus;

/**
 * Operators' requests to a job from any process. A running job gets them through the control mailbox and takes
 * them within a chunk; the reply says the state the job reached. A job that is not running can be cancelled (if
 * unfinished), which is recorded at once, or tuned (if resumable): the new throttle waits in the mailbox for the
 * runner that resumes it.
 */
final class OperatorControl {

    // After the runner lets go of the job, its last execution's status is written a moment later at most.
    private static final Duration SETTLE = Duration.ofSeconds(5);
    private static final long POLL_MILLIS = 100;

    /** Reads job states (Backfill's status). */
    @FunctionalInterface
    interface Status {
        List<JobStatus> read(String job) throws SQLException;
    }

    private final JobRuns runs;
    private final Status status;

    OperatorControl(JobRuns runs, Status status) {
        this.runs = runs;
        this.status = status;
    }

    /**
     * Asks job {@code name} to pause, cancel or change its throttle, and waits up to {@code wait} for a running job
     * to take the request.
     *
     * @return what happened, in one line; {@code ok} false when the request does not apply now
     */
    Backfill.ControlResult control(String name, ControlMailbox.Request request, Duration wait, String by)
            throws SQLException, InterruptedException {
        JobStatus before = read(name);
        String verb = request.command().name().toLowerCase();
        boolean resumable = before.state() == JobStatus.State.FAILED || before.state() == JobStatus.State.STOPPED
                || before.state() == JobStatus.State.PAUSED;
        if (!before.running()) {
            if (request.command() == ControlMailbox.Command.CANCEL && resumable) {
                runs.cancel(name);
                return new Backfill.ControlResult(true, "job " + name + " cancelled (it was " + before.state() + ")");
            }
            if (request.command() == ControlMailbox.Command.TUNE && resumable) {
                runs.ensureSchema();
                runs.mailbox().send(name, request, by);
                return new Backfill.ControlResult(true, "job " + name + " is " + before.state() + "; the new throttle"
                        + " applies when it resumes");
            }
            return new Backfill.ControlResult(false, "job " + name + " is not running (" + before.state() + "); nothing to "
                    + verb);
        }
        runs.ensureSchema();
        ControlMailbox mailbox = runs.mailbox();
        mailbox.send(name, request, by);
        long deadline = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < deadline) {
            if (request.command() == ControlMailbox.Command.TUNE) {
                if (!mailbox.pending(name)) {
                    return new Backfill.ControlResult(true, "job " + name + ": tune taken");
                }
            } else if (!read(name).running()) {
                return new Backfill.ControlResult(true, "job " + name + ": " + verb + " taken; now " + settled(name));
            }
            Thread.sleep(POLL_MILLIS);
        }
        return new Backfill.ControlResult(true, "job " + name + ": " + verb + " requested; the runner takes it after its"
                + " current chunk");
    }

    /** The state the job ends in once its runner has let go (its status row is written just before or after). */
    private JobStatus.State settled(String name) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + SETTLE.toNanos();
        JobStatus now = read(name);
        while (System.nanoTime() < deadline && (now.running() || now.state() == JobStatus.State.FAILED && now.lastError()
                != null && now.lastError().startsWith("the runner ended without recording it"))) {
            Thread.sleep(POLL_MILLIS);
            now = read(name);
        }
        return now.state();
    }

    private JobStatus read(String name) throws SQLException {
        List<JobStatus> statuses = status.read(name);
        return statuses.isEmpty() ? JobStatus.notStarted(name, null) : statuses.get(0);
    }
}
