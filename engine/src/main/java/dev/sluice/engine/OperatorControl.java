package dev.sluice.engine;

import java.sql.SQLException;
import java.time.Duration;
import java.util.List;

import javax.sql.DataSource;

import dev.sluice.engine.checkpoint.BatchSchema;
import dev.sluice.engine.checkpoint.CheckpointStore;
import dev.sluice.engine.checkpoint.Recovery;
import dev.sluice.engine.control.ControlMailbox;
import dev.sluice.engine.control.JobStatus;

import org.springframework.batch.core.job.JobExecution;

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

    private final DataSource dataSource;
    private final String schema;
    private final Status status;

    OperatorControl(DataSource dataSource, String schema, Status status) {
        this.dataSource = dataSource;
        this.schema = schema;
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
                cancelNow(name);
                return new Backfill.ControlResult(true, "job " + name + " cancelled (it was " + before.state() + ")");
            }
            if (request.command() == ControlMailbox.Command.TUNE && resumable) {
                BatchSchema.ensure(dataSource, schema);
                new ControlMailbox(dataSource, schema).send(name, request, by);
                return new Backfill.ControlResult(true, "job " + name + " is " + before.state() + "; the new throttle"
                        + " applies when it resumes");
            }
            return new Backfill.ControlResult(false, "job " + name + " is not running (" + before.state() + "); nothing to "
                    + verb);
        }
        BatchSchema.ensure(dataSource, schema);
        ControlMailbox mailbox = new ControlMailbox(dataSource, schema);
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

    private void cancelNow(String name) throws SQLException {
        CheckpointStore store = CheckpointStore.open(dataSource, schema);
        JobExecution last = store.repository().getLastJobExecution(store.repository().getLastJobInstance(name));
        Recovery.makeRestartable(store, last);
        try {
            store.operator().abandon(store.repository().getJobExecution(last.getId()));
        } catch (Exception e) {
            throw new IllegalStateException("cannot cancel job " + name + ": " + e.getMessage(), e);
        }
    }
}
