package dev.sluice.engine.throttle;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.chunk.ChunkObserver;
import dev.sluice.engine.chunk.ChunkReport;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Postgres;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Rate limit, lock timeouts with retry, and adaptive sizing, on real tables. */
class ThrottleTest {

    private HikariDataSource ds;
    private Db db;

    @BeforeEach
    void database() {
        ds = Postgres.newDatabase();
        db = new Db(ds);
    }

    @AfterEach
    void close() {
        ds.close();
    }

    /** Collects chunk reports and retried failures. */
    private static final class Recorder implements ChunkObserver {
        final List<ChunkReport> chunks = Collections.synchronizedList(new ArrayList<>());
        final List<String> failures = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void chunkCommitted(ChunkReport report) {
            chunks.add(report);
        }

        @Override
        public void chunkFailed(String error, int attempt) {
            failures.add(error);
        }
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void holdsTheRowRateWithinTenPercentOverFiveSeconds() throws Exception {
        db.counters("r", 12000);
        Recorder recorder = new Recorder();
        long started = System.nanoTime();
        RunResult result = new Backfill(ds).run(SpecParser.parse("""
                name: rated
                table: r
                key: [id]
                set: { n: n + 1 }
                chunk: { rows: 200, min-rows: 200, max-rows: 200 }
                throttle: { rows-per-second: 2000 }
                """), RunOptions.defaults().withObserver(recorder));
        double seconds = (System.nanoTime() - started) / 1e9;

        assertThat(result.outcome()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(seconds).as("a run of at least 5 seconds").isGreaterThanOrEqualTo(5);
        // Measured over the chunks, from the first commit to the last: 11,800 rows after the first chunk.
        List<ChunkReport> chunks = recorder.chunks;
        double rate = 12000 / seconds;
        System.out.printf("rate limit 2000 rows/s: %.0f rows/s achieved over %.2fs%n", rate, seconds);
        assertThat(rate).as("achieved rows/s over %.2fs", seconds).isBetween(1800.0, 2200.0);
        assertThat(chunks).hasSize(60);
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void aLockedRowTimesOutShrinksTheChunkRetriesAndCompletesOnceReleased() throws Exception {
        db.counters("l", 5000);
        Recorder recorder = new Recorder();
        try (Connection holder = ds.getConnection(); Statement st = holder.createStatement()) {
            holder.setAutoCommit(false);
            st.execute("SELECT * FROM l WHERE id = 2500 FOR UPDATE");

            CompletableFuture<RunResult> run = CompletableFuture.supplyAsync(() -> {
                try {
                    return new Backfill(ds).run(SpecParser.parse("""
                            name: locked
                            table: l
                            key: [id]
                            set: { n: n + 1 }
                            chunk: { rows: 1000, min-rows: 10 }
                            timeouts: { lock: 200ms }
                            """), RunOptions.defaults().withObserver(recorder));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (recorder.failures.size() < 3 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            System.out.println("lock held on row 2500: " + recorder.failures);
            assertThat(recorder.failures).hasSizeGreaterThanOrEqualTo(3)
                    .allMatch(f -> f.contains("lock timeout") && f.contains("55P03"));
            holder.rollback();
            RunResult result = run.get(60, TimeUnit.SECONDS);
            assertThat(result.outcome()).isEqualTo(RunResult.Outcome.COMPLETED);
        }
        assertThat(db.count("SELECT count(*) FROM l WHERE n <> 1")).isZero();
        // Each failed attempt halved the chunk: the chunk that finally took row 2500 was smaller than the first.
        ChunkReport through2500 = recorder.chunks.stream()
                .filter(c -> c.range().lo() != null && Long.parseLong(c.range().lo().toString()) < 2500
                        && Long.parseLong(c.range().hi().toString()) >= 2500).findFirst().orElseThrow();
        assertThat(through2500.range().rows()).isLessThan(recorder.chunks.get(0).range().rows());
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void chunkSizeConvergesTowardTheTargetOnCheapAndExpensiveRows() throws Exception {
        db.counters("cheap", 300000);
        // Expensive: every row waits 1ms inside the UPDATE (a stand-in for a costly expression).
        db.counters("costly", 1500);
        db.exec("CREATE FUNCTION slow_inc(x int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.001); RETURN x + 1; END $$");

        Recorder cheap = new Recorder();
        new Backfill(ds).run(SpecParser.parse("""
                name: cheap
                table: cheap
                key: [id]
                set: { n: n + 1 }
                chunk: { rows: 500, target: 100ms, min-rows: 100, max-rows: 200000 }
                """), RunOptions.defaults().withObserver(cheap));
        Recorder costly = new Recorder();
        new Backfill(ds).run(SpecParser.parse("""
                name: costly
                table: costly
                key: [id]
                set: { n: slow_inc(n) }
                chunk: { rows: 500, target: 100ms, min-rows: 10, max-rows: 200000 }
                """), RunOptions.defaults().withObserver(costly));

        // Cheap rows: chunks grew well past their start, at most x1.5 per step.
        List<ChunkReport> c = cheap.chunks;
        for (int i = 1; i < c.size() - 1; i++) {
            assertThat(c.get(i).range().rows()).isLessThanOrEqualTo((long) Math.ceil(c.get(i - 1).range().rows() * 1.5));
        }
        assertThat(c.stream().mapToLong(r -> r.range().rows()).max().orElseThrow()).isGreaterThan(5_000);
        // Expensive rows (>1ms each): chunks shrank from 500 (>500ms) toward 100ms, i.e. under 100 rows.
        List<ChunkReport> e = costly.chunks;
        List<ChunkReport> late = e.subList(e.size() / 2, e.size() - 1);
        assertThat(late).allMatch(r -> r.range().rows() < 100, "late chunks under 100 rows");
        double medianMillis = late.stream().mapToLong(ChunkReport::nanos).sorted().skip(late.size() / 2).findFirst()
                .orElseThrow() / 1e6;
        System.out.printf("sizing toward 100ms: cheap rows grew to %d rows/chunk; expensive rows settled at %s rows,"
                + " median %.0fms%n", c.stream().mapToLong(r -> r.range().rows()).max().orElseThrow(),
                late.stream().map(r -> r.range().rows()).distinct().limit(6).toList(), medianMillis);
        assertThat(medianMillis).as("median late chunk duration").isBetween(40.0, 250.0);
    }
}
