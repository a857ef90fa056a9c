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
import dev.sluice.engine.throttle.ChunkSizer;
import dev.sluice.engine.throttle.Pacer;

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
 * One call, one chunk. {@link org.springframework.batch.core.step.tasklet.TaskletStep} calls it inside a
 * transaction on the target database and then saves the step's ExecutionContext in that same transaction: the
 * chunk's write and its checkpoint commit together or not at all, so a crash at any instant neither loses a
 * chunk nor applies one twice.
 *
 * <p>Before any statement, the {@link Pacer} may hold the chunk back (pause, health gates, rate limit); the
 * transaction has sent nothing to the server yet, so the wait holds no locks. The checkpoint is put into the
 * ExecutionContext as the very last thing, after every statement that can fail (see README.md).
 */
public final class BackfillTasklet implements Tasklet {

    private final DataSource dataSource;
    private final DataSource rangeSource;
    private final Chunker chunker;
    private final ChunkWriter writer;
    private final ChunkLedger ledger;
    private final boolean chargesChecked;
    private final ChunkTimeouts timeouts;
    private final ChunkSizer sizer;
    private final Pacer pacer;
    private final ChunkRetry retry;
    private final StopSignal stop;
    private final RunnerLock lock;
    private final ChunkObserver observer;

    /**
     * @param rangeSource    where ranges are found (the source of a cross-database copy), or null for the target
     * @param chargesChecked whether the rate limit counts the rows a chunk checked (a validation) rather than wrote
     */
    public BackfillTasklet(DataSource dataSource, DataSource rangeSource, Chunker chunker, ChunkWriter writer,
                           ChunkLedger ledger, boolean chargesChecked,
                           ChunkTimeouts timeouts,
                           ChunkSizer sizer, Pacer pacer, ChunkRetry retry, StopSignal stop, RunnerLock lock,
                           ChunkObserver observer) {
        this.dataSource = dataSource;
        this.rangeSource = rangeSource;
        this.chunker = chunker;
        this.writer = writer;
        this.ledger = ledger;
        this.chargesChecked = chargesChecked;
        this.timeouts = timeouts;
        this.sizer = sizer;
        this.pacer = pacer;
        this.retry = retry;
        this.stop = stop;
        this.lock = lock;
        this.observer = observer;
    }

    @Override
    public RepeatStatus execute(StepContribution contribution, ChunkContext chunkContext) {
        StepExecution step = chunkContext.getStepContext().getStepExecution();
        if (stop.requested() || !pacer.awaitTurn()) {
            // TaskletStep checks this right after the (empty) transaction and ends the step STOPPED; the reason
            // commits with that transaction.
            Checkpoint.recordStop(step.getExecutionContext(), stop.reason());
            step.setTerminateOnly();
            return RepeatStatus.CONTINUABLE;
        }
        lock.verify();
        int rows = Math.min(sizer.rows(), pacer.maxRows());
        ExecutionContext ec = step.getExecutionContext();
        Checkpoint checkpoint = Checkpoint.from(ec);
        long started = System.nanoTime();
        pauseCountsFromCompletion();
        Connection c = DataSourceUtils.getConnection(dataSource);
        KeyRange range = null;
        try {
            timeouts.apply(c);
            range = next(c, checkpoint, rows);
            if (range == null) {
                ledger.finish(c, checkpoint.lastKey(), ec);
                return RepeatStatus.FINISHED;
            }
            long written = writer.write(c, range);
            ledger.apply(c, range, ec);
            Checkpoint next = checkpoint.after(range, written, rows);
            contribution.incrementWriteCount(written);
            afterCommit(range, written, started, next);
            next.writeTo(ec);
            RateSamples.record(ec, System.currentTimeMillis(), next.rows() - next.rowsAtStart(),
                    next.written() - next.writtenAtStart());
            return RepeatStatus.CONTINUABLE;
        } catch (SQLException e) {
            throw new ChunkFailedException(range, e);
        } finally {
            DataSourceUtils.releaseConnection(c, dataSource);
        }
    }

    private KeyRange next(Connection c, Checkpoint checkpoint, int rows) throws SQLException {
        if (rangeSource == null) {
            return chunker.next(c, checkpoint.lastKey(), rows);
        }
        try (Connection source = rangeSource.getConnection()) {
            return chunker.next(source, checkpoint.lastKey(), rows);
        }
    }

    private void afterCommit(KeyRange range, long written, long started, Checkpoint next) {
        TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
            @Override
            public void afterCommit() {
                long nanos = System.nanoTime() - started;
                sizer.feedback(range.rows(), nanos);
                pacer.charge(chargesChecked ? range.rows() : written);
                retry.succeeded();
                observer.chunkCommitted(new ChunkReport(range, written, nanos, next.rows(), next.chunks()));
            }
        });
    }

    private void pauseCountsFromCompletion() {
        TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
            @Override
            public void afterCompletion(int status) {
                pacer.chunkEnded();
            }
        });
    }
}
