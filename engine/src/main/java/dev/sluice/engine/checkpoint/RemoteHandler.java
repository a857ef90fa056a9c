package dev.sluice.engine.checkpoint;

import java.util.Collection;

import org.springframework.batch.core.partition.PartitionHandler;
import org.springframework.batch.core.partition.StepExecutionSplitter;
import org.springframework.batch.core.step.StepExecution;

/**
 * The partition handler of a run whose partitions run on workers: the sender (Spring Batch Integration's) sends
 * them and waits, while the run's watch hands on the partitions of dead or silent workers and the runner's observers
 * are told what the workers committed; the runner's copies of the partitions' executions are then brought up to what
 * the workers left in the repository.
 */
final class RemoteHandler implements PartitionHandler {

    private final Remote.Run run;
    private final RemoteProgress progress;
    private final PartitionHandler sender;

    RemoteHandler(CheckpointStore store, Remote.Run run, RemoteProgress progress, int gridSize) {
        this.run = run;
        this.progress = progress;
        this.sender = PartitionRequests.sender(store, run, gridSize);
    }

    Remote.Run run() {
        return run;
    }

    @Override
    public Collection<StepExecution> handle(StepExecutionSplitter splitter, StepExecution manager) throws Exception {
        long id = manager.getJobExecutionId();
        try (AutoCloseable watch = run.watch(id, () -> progress.tick(id))) {
            Collection<StepExecution> ended = sender.handle(splitter, manager);
            RemoteProgress.refresh(manager.getJobExecution(), ended);
            progress.tick(id);
            return ended;
        }
    }
}
