package dev.sluice.engine.checkpoint;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

import dev.sluice.engine.ChunkObserver;
import dev.sluice.engine.ChunkReport;
import dev.sluice.engine.KeyRange;

import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.step.StepExecution;

/**
 * What a runner of remote partitions knows of their chunks: read back from the job repository (each worker's chunks
 * commit their checkpoints there), not told chunk by chunk. Every tick, the job's totals since the last one reach the
 * run's observers (its progress, its meters) as one report: rows and WAL are exact; a report's duration is the tick's
 * time over the chunks it holds; its key range has no upper key (the partitions' chunks end at many keys).
 */
public final class RemoteProgress {

    private final CheckpointStore store;
    private final ChunkObserver observer;
    private long rows = -1;
    private long written;
    private long chunks;
    private long wal;
    private long at;

    public RemoteProgress(CheckpointStore store, ChunkObserver observer) {
        this.store = store;
        this.observer = observer;
    }

    /** Reads the run's partitions, and tells the observers what they committed since the last tick. */
    public synchronized void tick(long jobExecutionId) {
        JobExecution execution = store.repository().getJobExecution(jobExecutionId);
        if (execution == null) {
            return;
        }
        Partitions parts = Partitions.of(execution);
        Checkpoint total = parts.total();
        long walNow = 0;
        for (StepExecution step : execution.getStepExecutions()) {
            walNow += Checkpoint.addWal(step.getExecutionContext(), 0); // a copy read for this tick
        }
        long now = System.nanoTime();
        if (rows >= 0 && total.rows() > rows) {
            long newChunks = Math.max(1, total.chunks() - chunks);
            observer.chunkCommitted(new ChunkReport(
                    new KeyRange(null, null, total.rows() - rows),
                    Math.max(0, total.written() - written),
                    (now - at) / newChunks,
                    total.rows(),
                    total.chunks(),
                    Math.max(0, walNow - wal)));
        }
        rows = total.rows();
        written = total.written();
        chunks = total.chunks();
        wal = walNow;
        at = now;
    }

    /**
     * The run's partitions as the workers left them, into the runner's own copies of their executions: what the job
     * repository holds is what the run's result is made of.
     */
    public static void refresh(JobExecution run, Collection<StepExecution> ended) {
        Map<Long, StepExecution> byId = new HashMap<>();
        for (StepExecution e : ended) {
            byId.put(e.getId(), e);
        }
        for (StepExecution mine : run.getStepExecutions()) {
            StepExecution theirs = byId.get(mine.getId());
            if (theirs != null) {
                mine.setExecutionContext(theirs.getExecutionContext());
                mine.setStatus(theirs.getStatus());
                mine.setExitStatus(theirs.getExitStatus());
                mine.setWriteCount(theirs.getWriteCount());
                mine.setCommitCount(theirs.getCommitCount());
                mine.setEndTime(theirs.getEndTime());
            }
        }
    }
}
