package dev.sluice.engine.checkpoint;

import static dev.sluice.engine.chunk.TransientErrors.LOCK_NOT_AVAILABLE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import javax.sql.DataSource;

import dev.sluice.engine.ChunkObserver;
import dev.sluice.engine.ChunkReport;
import dev.sluice.engine.Key;
import dev.sluice.engine.KeyRange;
import dev.sluice.engine.StopSignal;
import dev.sluice.engine.chunk.ChunkFailedException;
import dev.sluice.engine.chunk.ChunkLedger;
import dev.sluice.engine.chunk.ChunkLoop;
import dev.sluice.engine.chunk.ChunkTimeouts;
import dev.sluice.engine.chunk.ChunkWriter;
import dev.sluice.engine.health.HealthGates;
import dev.sluice.engine.health.Reading;
import dev.sluice.engine.health.Signal;
import dev.sluice.engine.throttle.ChunkSizer;
import dev.sluice.engine.throttle.Pacer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.JobInstance;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.scope.context.ChunkContext;
import org.springframework.batch.core.scope.context.StepContext;
import org.springframework.batch.core.step.StepContribution;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.infrastructure.repeat.RepeatStatus;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The chunk loop turned as a partition's step turns it ({@link ChunkLoopTasklet}, {@link ChunkRetry}, a
 * {@link Pacer} over {@link HealthGates}), on fakes and without a database: a key space of ints in memory, a writer
 * whose writes count only once their transaction commits, and each transaction a Spring synchronization that the
 * test commits or rolls back as TaskletStep would. What the chunks' SQL does is the database tests' business.
 */
class ChunkLoopTest {

    private static final int KEYS = 1000;
    // Chunks of at most 100 rows: the fakes take microseconds, so the sizer grows straight to its maximum and stays,
    // and a cut (a timeout halves the chunk) shows in the next range.
    private static final int MAX_ROWS = 100;
    private static final Duration TARGET = Duration.ofMillis(250);

    private final List<String> events = new ArrayList<>();
    private final Keys source = new Keys();
    private final Writes writer = new Writes();
    private final Gate gate = new Gate();
    private final StopSignal stop = new StopSignal();
    private final ChunkSizer sizer = new ChunkSizer(MAX_ROWS, TARGET, 10, MAX_ROWS);
    private final List<ChunkReport> reports = new ArrayList<>();
    private final List<String> failures = new ArrayList<>();
    private final ChunkObserver observer = new ChunkObserver() {
        @Override
        public void chunkCommitted(ChunkReport report) {
            reports.add(report);
        }

        @Override
        public void chunkFailed(String error, int attempt) {
            failures.add(attempt + ": " + error);
        }
    };
    private final Pacer pacer =
            new Pacer(Duration.ZERO, null, null, new HealthGates(List.of(gate), Duration.ZERO), stop);
    private final ChunkLoop loop = new ChunkLoop(
            source,
            writer,
            ChunkLedger.NONE,
            false,
            new NoSettings(),
            sizer,
            pacer,
            () -> {},
            observer,
            ChunkLoop.Waiters.NONE,
            Duration.ZERO);
    // Three attempts a millisecond apart: the retry's rules, not its backoff, are what this test is about.
    private final ChunkRetry retry = new ChunkRetry("loop", sizer, observer, 3, Duration.ofMillis(1));
    private final AtomicLong rows = new AtomicLong();
    private final AtomicLong chunks = new AtomicLong();
    private final DataSource noDatabase = noDatabase();
    private final ChunkLoopTasklet tasklet = new ChunkLoopTasklet(
            noDatabase,
            loop,
            retry,
            stop,
            n -> new ChunkLoopTasklet.JobTotals(rows.addAndGet(n), chunks.incrementAndGet()));
    private final StepExecution step = new StepExecution(
            1L, "backfill:partition0", new JobExecution(1L, new JobInstance(1L, "loop"), new JobParameters()));

    @AfterEach
    void noTransactionLeftOpen() {
        if (TransactionSynchronizationManager.isSynchronizationActive()) {
            TransactionSynchronizationManager.clearSynchronization();
        }
        TransactionSynchronizationManager.unbindResourceIfPossible(noDatabase);
    }

    @Test
    void walksTheKeysInOrderOneCommittedChunkAfterAnother() throws Throwable {
        assertThat(runStep()).isEqualTo(RepeatStatus.FINISHED);
        assertThat(writer.committed).hasSize(KEYS / MAX_ROWS);
        assertContiguousToTheEnd(writer.committed);
        assertThat(reports).extracting(ChunkReport::chunks).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
        assertThat(reports).extracting(ChunkReport::walBytes).containsOnly(NoSettings.WAL_PER_CHUNK);
        assertThat(Checkpoint.from(step.getExecutionContext()).lastKey()).isEqualTo(key(KEYS));
        assertThat(Checkpoint.from(step.getExecutionContext()).rows()).isEqualTo(KEYS);
    }

    @Test
    void aStopIsHonouredAfterTheCurrentChunkCommits() throws Throwable {
        writer.during(3, () -> stop.request(StopSignal.PAUSE));
        assertThat(runStep()).isEqualTo(RepeatStatus.CONTINUABLE);
        assertThat(step.isTerminateOnly()).isTrue();
        assertThat(writer.committed)
                .as("the third chunk finished, no fourth began")
                .hasSize(3);
        assertContiguous(writer.committed);
        assertThat(Checkpoint.from(step.getExecutionContext()).lastKey()).isEqualTo(key(3 * MAX_ROWS));
        assertThat(Checkpoint.stopReason(step.getExecutionContext())).isEqualTo(StopSignal.PAUSE);
    }

    @Test
    void aChunkThatTimesOutIsRetriedFromTheSameKeyWithHalfTheRows() throws Throwable {
        writer.failOnce(2, LOCK_NOT_AVAILABLE);
        assertThat(runStep()).isEqualTo(RepeatStatus.FINISHED);
        assertThat(failures).singleElement().asString().startsWith("1: ").contains(LOCK_NOT_AVAILABLE);
        assertThat(writer.rolledBack).containsExactly(range(MAX_ROWS, 2 * MAX_ROWS));
        assertThat(writer.committed.get(1)).as("the same key, half the rows").isEqualTo(range(MAX_ROWS, 150));
        assertThat(writer.committed.get(2)).as("then growing again, by half").isEqualTo(range(150, 225));
        assertContiguousToTheEnd(writer.committed);
    }

    @Test
    void aChunkThatFailsForGoodEndsTheStepWithItsCheckpointAtTheLastCommit() throws Throwable {
        writer.failOnce(4, "23505"); // unique_violation: a person must look
        assertThatThrownBy(this::runStep)
                .isInstanceOf(ChunkFailedException.class)
                .hasMessageContaining("chunk " + range(3 * MAX_ROWS, 4 * MAX_ROWS));
        assertThat(failures).as("not retried").isEmpty();
        assertThat(writer.committed).hasSize(3);
        assertThat(Checkpoint.from(step.getExecutionContext()).lastKey()).isEqualTo(key(3 * MAX_ROWS));
    }

    @Test
    void aClosedHealthGateHoldsTheNextChunkUntilItOpens() throws Throwable {
        writer.during(2, () -> gate.closeFor(3));
        assertThat(runStep()).isEqualTo(RepeatStatus.FINISHED);
        int second = events.indexOf("write " + range(MAX_ROWS, 2 * MAX_ROWS));
        assertThat(events.subList(second + 1, second + 6))
                .containsExactly(
                        "gate closed",
                        "gate closed",
                        "gate closed",
                        "gate open",
                        "write " + range(2 * MAX_ROWS, 3 * MAX_ROWS));
        assertContiguousToTheEnd(writer.committed);
    }

    /**
     * What TaskletStep does around the tasklet, as PartitionWorker builds it: a transaction for each call, the
     * retry's exception handler after a rollback, until the walk is done or the step is told to end.
     */
    private RepeatStatus runStep() throws Throwable {
        ChunkContext context = new ChunkContext(new StepContext(step));
        Checkpoint.from(step.getExecutionContext())
                .startingExecution(sizer.rows())
                .writeTo(step.getExecutionContext());
        while (true) {
            TransactionSynchronizationManager.initSynchronization();
            RepeatStatus status;
            try {
                status = tasklet.execute(new StepContribution(step), context);
            } catch (RuntimeException e) {
                complete(false);
                retry.handleException(null, e);
                continue;
            }
            complete(true);
            if (status == RepeatStatus.FINISHED || step.isTerminateOnly()) {
                return status;
            }
        }
    }

    /** Ends the current transaction: the writes count if it committed, and its synchronizations are told. */
    private void complete(boolean committed) {
        List<TransactionSynchronization> told = TransactionSynchronizationManager.getSynchronizations();
        TransactionSynchronizationManager.clearSynchronization();
        writer.end(committed);
        if (committed) {
            told.forEach(TransactionSynchronization::afterCommit);
        }
        int status =
                committed ? TransactionSynchronization.STATUS_COMMITTED : TransactionSynchronization.STATUS_ROLLED_BACK;
        told.forEach(s -> s.afterCompletion(status));
        TransactionSynchronizationManager.unbindResourceIfPossible(noDatabase);
    }

    private static void assertContiguous(List<KeyRange> ranges) {
        Key last = null;
        for (KeyRange r : ranges) {
            assertThat(r.lo())
                    .as("starts where the last chunk ended: " + ranges)
                    .isEqualTo(last);
            last = r.hi();
        }
    }

    private static void assertContiguousToTheEnd(List<KeyRange> ranges) {
        assertContiguous(ranges);
        assertThat(ranges.get(ranges.size() - 1).hi()).isEqualTo(key(KEYS));
    }

    private static Key key(int id) {
        return new Key(List.of(Integer.toString(id)));
    }

    /** The keys after {@code lo} up to {@code hi}; lo 0 is the start of the key space. */
    private static KeyRange range(int lo, int hi) {
        return new KeyRange(lo == 0 ? null : key(lo), key(hi), hi - lo);
    }

    /** Keys 1..KEYS, in memory. */
    private static final class Keys implements ChunkLoop.Source {
        @Override
        public KeyRange next(Connection c, Key after, int rows) {
            int lo = after == null ? 0 : Integer.parseInt(after.values().get(0));
            return lo >= KEYS ? null : range(lo, Math.min(KEYS, lo + rows));
        }
    }

    /** Records writes; they count once their transaction commits. Can fail a chunk, or act while writing one. */
    private final class Writes implements ChunkWriter {
        final List<KeyRange> committed = new ArrayList<>();
        final List<KeyRange> rolledBack = new ArrayList<>();
        private final List<KeyRange> pending = new ArrayList<>();
        private final Map<Integer, String> failOnce = new HashMap<>();
        private final Map<Integer, Runnable> during = new HashMap<>();

        void failOnce(int chunk, String sqlState) {
            failOnce.put(chunk, sqlState);
        }

        void during(int chunk, Runnable action) {
            during.put(chunk, action);
        }

        @Override
        public long write(Connection c, KeyRange range) throws SQLException {
            events.add("write " + range);
            pending.add(range);
            int chunk = committed.size() + 1;
            String state = failOnce.remove(chunk);
            if (state != null) {
                throw new SQLException("chunk trouble", state);
            }
            Runnable action = during.remove(chunk);
            if (action != null) {
                action.run();
            }
            return range.rows();
        }

        void end(boolean commit) {
            (commit ? committed : rolledBack).addAll(pending);
            pending.clear();
        }

        @Override
        public String sql(int shape) {
            return "(in memory)";
        }
    }

    /** A replica whose lag the test raises for a number of reads; the pacer reads it before each chunk. */
    private final class Gate implements Signal {
        private int closedReads;

        void closeFor(int reads) {
            closedReads = reads;
        }

        @Override
        public String name() {
            return "replica";
        }

        @Override
        public List<Reading> read() {
            boolean closed = closedReads > 0;
            closedReads--;
            events.add(closed ? "gate closed" : "gate open");
            return List.of(new Reading("replica r1", "replay lag", closed ? 10 : 0, 5, Reading.Unit.SECONDS));
        }
    }

    /** The chunk's transaction settings, with no server to set them on; each chunk "writes" a page of WAL. */
    private static final class NoSettings implements ChunkLoop.Settings {
        static final long WAL_PER_CHUNK = 8192;

        @Override
        public ChunkTimeouts.Start apply(Connection c, boolean joinsKeys) {
            return new ChunkTimeouts.Start("0/0", 1);
        }

        @Override
        public long walSince(Connection c, ChunkTimeouts.Start start) {
            return WAL_PER_CHUNK;
        }
    }

    /**
     * A DataSource for Spring's transaction plumbing only: its connection can be opened and closed, and anything
     * else fails the test, since every statement of the loop goes to the fakes.
     */
    private static DataSource noDatabase() {
        Connection connection = (Connection) Proxy.newProxyInstance(
                ChunkLoopTest.class.getClassLoader(),
                new Class<?>[] {Connection.class},
                (self, method, args) -> switch (method.getName()) {
                    case "close" -> null;
                    case "isClosed" -> false;
                    case "hashCode" -> System.identityHashCode(self);
                    case "equals" -> self == args[0];
                    case "toString" -> "no database";
                    default -> throw new AssertionError("the loop reached the database: " + method.getName());
                });
        return (DataSource) Proxy.newProxyInstance(
                ChunkLoopTest.class.getClassLoader(),
                new Class<?>[] {DataSource.class},
                (self, method, args) -> switch (method.getName()) {
                    case "getConnection" -> connection;
                    case "hashCode" -> System.identityHashCode(self);
                    case "equals" -> self == args[0];
                    case "toString" -> "no database";
                    default -> throw new AssertionError("unexpected: " + method.getName());
                });
    }
}
