package dev.sluice.engine.checkpoint;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import dev.sluice.engine.ChunkObserver;
import dev.sluice.engine.Key;
import dev.sluice.engine.StopSignal;
import dev.sluice.engine.chunk.ChunkLoop;
import dev.sluice.engine.chunk.ChunkTimeouts;
import dev.sluice.engine.chunk.ChunkWriter;
import dev.sluice.engine.chunk.Failures;
import dev.sluice.engine.chunk.JavaWriter;
import dev.sluice.engine.chunk.Prefetching;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.throttle.ChunkSizer;
import dev.sluice.engine.throttle.LockWaiters;
import dev.sluice.engine.throttle.Pacer;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.ExitStatus;
import org.springframework.batch.core.job.JobInterruptedException;
import org.springframework.batch.core.listener.StepExecutionListener;
import org.springframework.batch.core.step.Step;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.core.step.builder.StepBuilder;
import org.springframework.batch.infrastructure.item.ExecutionContext;

/**
 * The step every key-range partition runs: a TaskletStep of its own per partition, turning a {@link ChunkLoop} over
 * the partition's range, with its own chunk sizing and retries (a slow range shrinks its own chunks, not the
 * others'), and the job's pacer, health gates, stop signal and runner lock shared with the other partitions. The
 * partition's checkpoint is its step execution's context, saved in each chunk's transaction.
 */
final class PartitionWorker implements Step {

    private final CheckpointStore store;
    private final Work work;
    private final BackfillJob.Wiring wiring;
    private final Pacer pacer;
    private final ChunkObserver observer;
    private final List<ChunkSizer> sizers = new CopyOnWriteArrayList<>();
    private final AtomicLong rows = new AtomicLong();
    private final AtomicLong chunks = new AtomicLong();
    private final StopSignal stop;
    private final ChunkLoop.Guard lockCheck;

    /**
     * @param observer told of every partition's chunks, one at a time, with the job's totals
     * @param stop     the partitions' stop signal: the job's, and raised by a partition that failed for good
     * @param lockCheck before each chunk: throws if the lock that makes this process the partition's only writer is
     *                 gone (the runner's lock, or a remote worker's lock of the partition)
     */
    PartitionWorker(
            CheckpointStore store,
            Work work,
            BackfillJob.Wiring wiring,
            Pacer pacer,
            ChunkObserver observer,
            StopSignal stop,
            ChunkLoop.Guard lockCheck) {
        this.stop = stop;
        this.lockCheck = lockCheck;
        this.store = store;
        this.work = work;
        this.wiring = wiring;
        this.pacer = pacer;
        this.observer = observer;
    }

    @Override
    public String getName() {
        return work.kind().step + ":partition";
    }

    /** The job's totals before its first chunk in this execution: every partition's, done or not. */
    void started(long totalRows, long totalChunks) {
        rows.set(totalRows);
        chunks.set(totalChunks);
    }

    /** An operator's {@code tune --chunk-target}: every partition's sizing moves toward it. */
    void target(Duration target) {
        sizers.forEach(s -> s.target(target));
    }

    @Override
    public void execute(StepExecution partition) throws JobInterruptedException {
        JobSpec spec = work.prepared().spec();
        JobSpec.Chunk c = spec.chunk();
        ExecutionContext ec = partition.getExecutionContext();
        Key hi = PartitionPlan.hi(ec);
        ChunkSizer sizer = new ChunkSizer(c.rows(), c.target(), c.minRows(), c.maxRows());
        sizers.add(sizer);
        ChunkRetry retry = new ChunkRetry(spec.name(), sizer, observer);
        ChunkTimeouts timeouts = new ChunkTimeouts(
                spec.timeouts().lock(),
                spec.timeouts().statement(),
                work.prepared().keyset().width() > 1);
        ChunkLoop.Source source = work.source().upTo(hi);
        ChunkWriter writer = work.writer();
        // Java mode reads and transforms the next chunk while the current one writes; with partitions, they overlap
        // one another's reads and writes already, and reading ahead too would only queue more work on the same cores.
        Prefetching prefetching = writer instanceof JavaWriter java && work.parallel() == 1
                ? new Prefetching(source, java, store.dataSource(), timeouts, partition.getStepName() + "-ahead")
                : null;
        if (prefetching != null) {
            source = prefetching;
            writer = prefetching;
        }
        Duration maxWait = spec.health().lockWaiters().maxWait();
        // A validation takes no locks worth watching.
        LockWaiters waiters = work.checks() || maxWait.isZero()
                ? null
                : new LockWaiters(store.dataSource(), maxWait, partition.getStepName() + "-waiters");
        ChunkLoop loop = new ChunkLoop(
                source,
                writer,
                work.ledger(),
                work.checks(),
                timeouts,
                sizer,
                pacer,
                lockCheck,
                observer,
                waiters == null ? ChunkLoop.Waiters.NONE : waiters,
                maxWait);
        ChunkLoopTasklet tasklet = new ChunkLoopTasklet(
                store.dataSource(),
                loop,
                retry,
                stop,
                n -> new ChunkLoopTasklet.JobTotals(rows.addAndGet(n), chunks.incrementAndGet()));
        Step step = new StepBuilder(partition.getStepName(), store.repository())
                .observationRegistry(wiring.observations())
                .tasklet(tasklet, store.transactionManager())
                .exceptionHandler(retry)
                .listener(new StepExecutionListener() {
                    @Override
                    public void beforeStep(StepExecution stepExecution) {
                        ExecutionContext ec = stepExecution.getExecutionContext();
                        Checkpoint start = Checkpoint.from(ec).startingExecution(sizer.rows());
                        start.writeTo(ec);
                        RateSamples.start(ec, System.currentTimeMillis());
                        Checkpoint.startWal(ec);
                        Checkpoint.recordError(ec, null);
                        Checkpoint.recordStop(ec, null);
                    }

                    @Override
                    public ExitStatus afterStep(StepExecution stepExecution) {
                        // Spring Batch saves the context once more after this, with the last committed checkpoint.
                        if (!stepExecution.getFailureExceptions().isEmpty()) {
                            Checkpoint.recordError(
                                    stepExecution.getExecutionContext(),
                                    Failures.describe(
                                            stepExecution.getFailureExceptions().get(0)));
                        }
                        return null;
                    }
                })
                .build();
        try {
            step.execute(partition);
        } finally {
            sizers.remove(sizer);
            if (prefetching != null) {
                prefetching.close();
            }
            if (waiters != null) {
                waiters.close();
            }
        }
        if (partition.getStatus() == BatchStatus.FAILED) {
            // A failure that outlived its retries ends the job: the other partitions stop after their chunk.
            stop.request("stopped: partition " + partition.getStepName() + " failed");
        }
    }
}
