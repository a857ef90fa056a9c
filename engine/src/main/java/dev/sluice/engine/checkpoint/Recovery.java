package dev.sluice.engine.checkpoint;

import java.time.LocalDateTime;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.ExitStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.step.StepExecution;

/**
 * Makes an execution that did not end cleanly restartable, once the caller holds the job's runner lock.
 *
 * <p>Two cases. A runner that was killed leaves its execution STARTED: Spring Batch's {@code recover} marks it
 * FAILED. A commit whose outcome the driver could not learn (the connection broke during COMMIT) leaves it
 * UNKNOWN, which Spring Batch refuses to restart because, in general, the data may disagree with the recorded
 * state. In Sluice it cannot: a chunk's write and its checkpoint are one transaction, so the checkpoint in the
 * database is exactly what was applied, committed or not; and a checkpoint held only in memory is never saved
 * afterwards, because the step's optimistic version no longer matches. So UNKNOWN is marked FAILED and resumed.
 */
public final class Recovery {

    private Recovery() {
    }

    public static void makeRestartable(CheckpointStore store, JobExecution execution) {
        BatchStatus status = execution.getStatus();
        if (status.isRunning()) {
            store.operator().recover(execution);
        } else if (status == BatchStatus.UNKNOWN) {
            for (StepExecution step : execution.getStepExecutions()) {
                if (step.getStatus() == BatchStatus.UNKNOWN || step.getStatus().isRunning()) {
                    step.setStatus(BatchStatus.FAILED);
                    step.setExitStatus(ExitStatus.FAILED);
                    step.setEndTime(LocalDateTime.now());
                    store.repository().update(step);
                }
            }
            execution.setStatus(BatchStatus.FAILED);
            execution.setExitStatus(ExitStatus.FAILED);
            store.repository().update(execution);
        }
    }
}
