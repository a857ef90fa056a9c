package dev.sluice.engine.checkpoint;

import java.sql.Connection;
import java.sql.SQLException;

import javax.sql.DataSource;

import dev.sluice.engine.chunk.ChunkObserver;
import dev.sluice.engine.chunk.ChunkReport;
import dev.sluice.engine.chunk.ChunkTimeouts;
import dev.sluice.engine.chunk.ChunkWriter;
import dev.sluice.engine.control.RunnerLock;
import dev.sluice.engine.control.StopSignal;
import dev.sluice.engine.keyset.Chunker;
import dev.sluice.engine.keyset.KeyRange;

import org.springframework.batch.core.step.StepContribution;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.core.scope.context.ChunkContext;
import org.springframework.batch.core.step.tasklet.Tasklet;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.batch.infrastructure.repeat.RepeatStatus;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * One call, one chunk. {@link org.springframework.batch.core.step.tasklet.TaskletStep} calls it inside a
 * transaction on the target database and then saves the step's ExecutionContext in that same transaction: the
 * chunk's write and its checkpoint commit together or not at all, so a crash at any instant neither loses a
 * chunk nor applies one twice.
 *
 * <p>The checkpoint is put into the ExecutionContext as the very last thing, after every statement that can
 * fail: if anything throws before, the context still holds the previous checkpoint (Spring Batch writes the
 * context once more when the step ends, and must write the old one). If the commit itself fails, TaskletStep
 * restores the context it copied before the call.
 */
public final class BackfillTasklet implements Tasklet {

    private final DataSource dataSource;
    private final Chunker chunker;
    private final ChunkWriter writer;
    private final ChunkTimeouts timeouts;
    private final int chunkRows;
    private final StopSignal stop;
    private final RunnerLock lock;
    private final ChunkObserver observer;

    public BackfillTasklet(DataSource dataSource, Chunker chunker, ChunkWriter writer, ChunkTimeouts timeouts,
                           int chunkRows, StopSignal stop, RunnerLock lock, ChunkObserver observer) {
        this.dataSource = dataSource;
        this.chunker = chunker;
        this.writer = writer;
        this.timeouts = timeouts;
        this.chunkRows = chunkRows;
        this.stop = stop;
        this.lock = lock;
        this.observer = observer;
    }

    @Override
    public RepeatStatus execute(StepContribution contribution, ChunkContext chunkContext) {
        StepExecution step = chunkContext.getStepContext().getStepExecution();
        if (stop.requested()) {
            // TaskletStep checks this right after the (empty) transaction and ends the step STOPPED.
            step.setTerminateOnly();
            return RepeatStatus.CONTINUABLE;
        }
        lock.verify();
        ExecutionContext ec = step.getExecutionContext();
        Checkpoint checkpoint = Checkpoint.from(ec);
        Connection c = DataSourceUtils.getConnection(dataSource);
        KeyRange range = null;
        try {
            long started = System.nanoTime();
            timeouts.apply(c);
            range = chunker.next(c, checkpoint.lastKey(), chunkRows);
            if (range == null) {
                return RepeatStatus.FINISHED;
            }
            long written = writer.write(c, range);
            long nanos = System.nanoTime() - started;
            Checkpoint next = checkpoint.after(range, written, chunkRows);
            contribution.incrementWriteCount(written);
            afterCommit(new ChunkReport(range, written, nanos, next.rows(), next.chunks()));
            next.writeTo(ec);
            return RepeatStatus.CONTINUABLE;
        } catch (SQLException e) {
            throw new ChunkFailedException(range, e);
        } finally {
            DataSourceUtils.releaseConnection(c, dataSource);
        }
    }

    private void afterCommit(ChunkReport report) {
        TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
            @Override
            public void afterCommit() {
                observer.chunkCommitted(report);
            }
        });
    }
}
