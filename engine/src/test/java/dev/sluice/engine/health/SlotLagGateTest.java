package dev.sluice.engine.health;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Eventually;
import dev.sluice.engine.testing.Postgres;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A logical replication slot whose consumer stopped confirming holds the backfill back until it catches up. */
class SlotLagGateTest {

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void aLaggingLogicalSlotThrottlesTheJobUntilItsConsumerCatchesUp() throws Exception {
        try (HikariDataSource ds = Postgres.newDatabase()) {
            Db db = new Db(ds);
            String slot = "cdc_" + Postgres.databaseOf(ds);
            db.exec(
                    "CREATE TABLE s (id int PRIMARY KEY, v text)",
                    // Enough chunks that the run lasts several polls on a fast machine too: 20 chunks once ran in
                    // 0.17 s, within one poll interval of the first (lag 0), and ended without being held back.
                    "INSERT INTO s SELECT g, NULL FROM generate_series(1, 100000) g",
                    "ANALYZE s",
                    "SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
            try {
                Backfill backfill = new Backfill(ds);
                CompletableFuture<RunResult> run = CompletableFuture.supplyAsync(() -> {
                    try {
                        return backfill.run(SpecParser.parse("""
                                name: slotted
                                table: s
                                key: [id]
                                set: { v: "repeat(md5(id::text), 4)" }
                                chunk: { rows: 1000, min-rows: 1000, max-rows: 1000 }
                                health: { slot-lag: { max-bytes: 256kB }, poll: 100ms }
                                """), RunOptions.defaults());
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                JobStatus throttled = await(backfill, JobStatus.State.THROTTLED, run);
                assertThat(throttled.throttleReason())
                        .startsWith("slot " + slot + " retained WAL")
                        .contains("> 262144B");
                long chunks = throttled.chunks();
                Thread.sleep(1000);
                assertThat(backfill.status("slotted").chunks()).isEqualTo(chunks);

                // The consumer comes back and keeps up: it confirms everything written, a few times a second.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!run.isDone() && System.nanoTime() < deadline) {
                    db.exec("SELECT pg_replication_slot_advance('" + slot + "', pg_current_wal_lsn())");
                    Thread.sleep(100);
                }
                RunResult result = run.get(60, TimeUnit.SECONDS);
                assertThat(result.outcome()).isEqualTo(RunResult.Outcome.COMPLETED);
            } finally {
                db.exec("SELECT pg_drop_replication_slot('" + slot + "')");
            }
        }
    }

    private static JobStatus await(Backfill backfill, JobStatus.State state, CompletableFuture<RunResult> run)
            throws Exception {
        JobStatus status = Eventually.eventually(
                java.time.Duration.ofSeconds(30),
                "job slotted " + state + " (or its run" + " ended)",
                () -> backfill.status("slotted"),
                s -> s.state() == state || run.isDone());
        if (status.state() != state) {
            throw new AssertionError("the run ended before it was " + state + ": " + run.get());
        }
        return status;
    }
}
