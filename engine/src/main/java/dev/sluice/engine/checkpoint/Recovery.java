package dev.sluice.engine.checkpoint;

import java.time.LocalDateTime;
import java.time.ZoneId;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.ExitStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.step.StepExecution;

/**
 * Makes a job instance whose last execution did not end cleanly restartable, once the caller holds the job's runner
 * lock (so no runner is alive to own anything left running).
 *
 * <p>Spring Batch restarts an instance only when none of its executions is running or UNKNOWN, and none of the last
 * one's step executions is either. A crash or an outage can leave any mix of them, because the statuses are written
 * one row at a time, each in its own transaction, and any of those writes can be the one the database never saw: a
 * runner killed mid-run leaves everything STARTED; a COMMIT whose outcome the driver never learnt leaves a step
 * UNKNOWN; a server that went away while the partitions failed and came back before the job's own end was written
 * leaves the execution FAILED over partition steps still STARTED (seen under a 45-second outage). Spring Batch's
 * {@code recover} repairs only the first case, and only once per execution.
 *
 * <p>For Sluice each of these is safe to mark FAILED and resume: a chunk's write and its checkpoint are one
 * transaction, so the checkpoint in the database is exactly what was applied, committed or not; and a checkpoint
 * held only in memory is never saved afterwards, because the step's optimistic version no longer matches. So every
 * execution of the instance, and every step of each, that is still running or UNKNOWN is marked FAILED with an end
 * time.
 */
public final class Recovery {

    private Recovery() {}

    /** Marks whatever of {@code execution}'s instance did not end cleanly FAILED; returns whether anything was. */
    public static boolean makeRestartable(CheckpointStore store, JobExecution execution) {
        boolean repaired = false;
        for (JobExecution each : store.repository().getJobExecutions(execution.getJobInstance())) {
            repaired |= repair(store, each);
        }
        return repaired;
    }

    private static boolean repair(CheckpointStore store, JobExecution execution) {
        boolean repaired = false;
        for (StepExecution step : execution.getStepExecutions()) {
            if (unfinished(step.getStatus())) {
                step.setStatus(BatchStatus.FAILED);
                step.setExitStatus(ExitStatus.FAILED.addExitDescription("its runner ended before the step did"));
                step.setEndTime(LocalDateTime.now(ZoneId.systemDefault()));
                store.repository().update(step);
                repaired = true;
            }
        }
        if (unfinished(execution.getStatus()) || (repaired && execution.getEndTime() == null)) {
            execution.setStatus(BatchStatus.FAILED);
            execution.setExitStatus(ExitStatus.FAILED);
            execution.setEndTime(LocalDateTime.now(ZoneId.systemDefault()));
            store.repository().update(execution);
            repaired = true;
        }
        return repaired;
    }

    private static boolean unfinished(BatchStatus status) {
        return status.isRunning() || status == BatchStatus.UNKNOWN;
    }
}
