package dev.sluice.engine;

import java.sql.SQLException;
import java.util.List;

import javax.sql.DataSource;

import dev.sluice.engine.checkpoint.BatchSchema;
import dev.sluice.engine.checkpoint.CheckpointStore;
import dev.sluice.engine.checkpoint.Recovery;
import dev.sluice.engine.control.ControlMailbox;
import dev.sluice.engine.control.JobStatus;

import org.springframework.batch.core.job.JobExecution;

/**
 * Operators' requests to a job from any process: a running job gets them through the control mailbox and takes
 * them within a chunk; a job that is not running can only be cancelled, which is recorded at once.
 */
final class OperatorControl {

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
     * Asks job {@code name} to pause, cancel or change its throttle. A running job takes the request within a
     * chunk; this waits up to {@code wait} for it to be taken. A job that is not running can only be cancelled
     * (if unfinished): it is marked so at once.
     *
     * @return what happened, in one line; {@code ok} false when the request does not apply now
     */
    Backfill.ControlResult control(String name, ControlMailbox.Request request, java.time.Duration wait, String by)
            throws SQLException, InterruptedException {
        List<JobStatus> statuses = status.read(name);
        JobStatus before = statuses.isEmpty() ? JobStatus.notStarted(name, null) : statuses.get(0);
        String verb = request.command().name().toLowerCase();
        if (before.runnerPid() == null) {
            if (request.command() == ControlMailbox.Command.CANCEL && (before.state() == JobStatus.State.FAILED
                    || before.state() == JobStatus.State.STOPPED || before.state() == JobStatus.State.PAUSED)) {
                CheckpointStore store = CheckpointStore.open(dataSource, schema);
                JobExecution last = store.repository().getLastJobExecution(store.repository().getLastJobInstance(name));
                Recovery.makeRestartable(store, last);
                try {
                    store.operator().abandon(store.repository().getJobExecution(last.getId()));
                } catch (Exception e) {
                    throw new IllegalStateException("cannot cancel job " + name + ": " + e.getMessage(), e);
                }
                return new Backfill.ControlResult(true, "job " + name + " cancelled (it was " + before.state() + ")");
            }
            return new Backfill.ControlResult(false, "job " + name + " is not running (" + before.state() + "); nothing to " + verb);
        }
        BatchSchema.ensure(dataSource, schema);
        ControlMailbox mailbox = new ControlMailbox(dataSource, schema);
        mailbox.send(name, request, by);
        long deadline = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < deadline) {
            JobStatus now = status.read(name).get(0);
            if (request.command() == ControlMailbox.Command.TUNE ? !mailbox.pending(name) : now.runnerPid() == null) {
                return new Backfill.ControlResult(true, "job " + name + ": " + verb + " taken" + (request.command()
                        == ControlMailbox.Command.TUNE ? "" : "; now " + now.state()));
            }
            Thread.sleep(100);
        }
        return new Backfill.ControlResult(true, "job " + name + ": " + verb + " requested; the runner takes it after its current chunk");
    }
}
