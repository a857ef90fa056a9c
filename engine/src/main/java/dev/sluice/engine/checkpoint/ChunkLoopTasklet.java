package dev.sluice.engine.checkpoint;

import java.sql.Connection;

import javax.sql.DataSource;

import dev.sluice.engine.StopSignal;
import dev.sluice.engine.chunk.ChunkLedger;
import dev.sluice.engine.chunk.ChunkLoop;

import org.springframework.batch.core.scope.context.ChunkContext;
import org.springframework.batch.core.step.StepContribution;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.core.step.tasklet.Tasklet;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.batch.infrastructure.repeat.RepeatStatus;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The {@link ChunkLoop} on Spring Batch: one call, one turn. {@link org.springframework.batch.core.step.tasklet
 * .TaskletStep} calls it inside a transaction on the target database and then saves the step's ExecutionContext in
 * that same transaction: the chunk's write and its checkpoint commit together or not at all, so a crash at any
 * instant neither loses a chunk nor applies one twice. The new checkpoint goes into the context as the very last
 * thing, after every statement that can fail (see README.md).
 */
final class ChunkLoopTasklet implements Tasklet {

    /** The job's totals after a committed chunk: with partitions, all of them together. */
    @FunctionalInterface
    interface Totals {
        /** @return the job's rows and chunks once a chunk of {@code rows} committed */
        JobTotals committed(long rows);
    }

    /** The rows and chunks of the whole job so far. */
    record JobTotals(long rows, long chunks) {}

    private final DataSource dataSource;
    private final ChunkLoop loop;
    private final ChunkRetry retry;
    private final StopSignal stop;
    private final Totals totals;

    /** @param stop the partitions' stop signal: operators, signals, or another partition that failed */
    ChunkLoopTasklet(DataSource dataSource, ChunkLoop loop, ChunkRetry retry, StopSignal stop, Totals totals) {
        this.dataSource = dataSource;
        this.loop = loop;
        this.retry = retry;
        this.stop = stop;
        this.totals = totals;
    }

    @Override
    public RepeatStatus execute(StepContribution contribution, ChunkContext chunkContext) {
        StepExecution step = chunkContext.getStepContext().getStepExecution();
        ExecutionContext ec = step.getExecutionContext();
        if (stop.requested() || !loop.mayStart()) {
            // TaskletStep checks this right after the (empty) transaction and ends the step STOPPED; the reason
            // commits with that transaction.
            Checkpoint.recordStop(ec, stop.reason());
            step.setTerminateOnly();
            return RepeatStatus.CONTINUABLE;
        }
        Checkpoint at = Checkpoint.from(ec);
        whenOver(loop::ended);
        Connection c = DataSourceUtils.getConnection(dataSource);
        try {
            ChunkLoop.Chunk chunk = loop.turn(c, at.lastKey(), notes(ec));
            if (chunk == null) {
                return RepeatStatus.FINISHED;
            }
            Checkpoint next = at.after(chunk.range(), chunk.written(), loop.rows());
            contribution.incrementWriteCount(chunk.written());
            whenCommitted(() -> {
                retry.succeeded();
                JobTotals job = totals.committed(chunk.range().rows());
                loop.committed(chunk, job.rows(), job.chunks());
            });
            next.writeTo(ec);
            RateSamples.record(
                    ec,
                    System.currentTimeMillis(),
                    next.rows() - next.rowsAtStart(),
                    next.written() - next.writtenAtStart(),
                    Checkpoint.addWal(ec, chunk.walBytes()));
            return RepeatStatus.CONTINUABLE;
        } finally {
            DataSourceUtils.releaseConnection(c, dataSource);
        }
    }

    /** The chunk's notes are kept in the step's context, which commits with it. */
    static ChunkLedger.Notes notes(ExecutionContext ec) {
        return new ChunkLedger.Notes() {
            @Override
            public String get(String key) {
                return ec.containsKey(key) ? ec.getString(key) : null;
            }

            @Override
            public void put(String key, String value) {
                ec.putString(key, value);
            }
        };
    }

    private static void whenCommitted(Runnable action) {
        TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
            @Override
            public void afterCommit() {
                action.run();
            }
        });
    }

    private static void whenOver(Runnable action) {
        TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
            @Override
            public void afterCompletion(int status) {
                action.run();
            }
        });
    }
}
