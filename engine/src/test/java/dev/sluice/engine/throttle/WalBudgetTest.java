package dev.sluice.engine.throttle;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.ChunkObserver;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Postgres;
import dev.sluice.engine.testing.RestartableServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code throttle.wal-bytes-per-second}: over a run of more than ten seconds, the WAL the server writes (its own WAL
 * position, read by the test) stays within 15% of the budget, and the chunks' measured WAL adds up to it. On a server
 * of the test's own: a chunk's WAL is measured from the server's WAL position, which also counts what other sessions
 * write meanwhile, and the shared test server has other tests writing.
 */
class WalBudgetTest {

    private static final long BUDGET = 1 << 20;

    private RestartableServer server;
    private HikariDataSource ds;
    private Db db;

    @BeforeEach
    void database() throws Exception {
        server = RestartableServer.start();
        ds = Postgres.dataSource(server.createDatabase("wal"));
        db = new Db(ds);
        // About 15 MB of WAL to write, 15 s at the budget: rows of ~250 bytes, each updated once, most pages for the
        // first time since the checkpoint (a full-page image each), about 670 bytes of WAL a row.
        db.exec(
                "CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL DEFAULT 0, pad text)",
                "INSERT INTO t (id, pad) SELECT g, repeat('x', 200) FROM generate_series(1, 22000) g",
                "VACUUM ANALYZE t",
                "CHECKPOINT");
    }

    @AfterEach
    void close() {
        ds.close();
        server.close();
    }

    @Test
    @Timeout(120)
    void theWalBudgetHoldsWithinFifteenPercentOverTenSeconds() throws Exception {
        AtomicLong firstCommit = new AtomicLong();
        AtomicLong firstLsnBytes = new AtomicLong(-1);
        AtomicLong chunkWal = new AtomicLong();
        AtomicLong firstChunkWal = new AtomicLong();
        ChunkObserver watch = report -> {
            chunkWal.addAndGet(report.walBytes());
            if (firstLsnBytes.get() < 0) {
                // From the first commit on: preflight and set-up write no WAL worth measuring, and would flatter the
                // rate.
                firstLsnBytes.set(db.count("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint"));
                firstCommit.set(System.nanoTime());
                firstChunkWal.set(report.walBytes());
            }
        };
        RunResult run = new Backfill(ds)
                .run(SpecParser.parse("""
                name: wal
                table: t
                key: [id]
                set: { n: n + 1 }
                throttle: { wal-bytes-per-second: 1MB }
                undo: false
                validate-after-run: false
                """), RunOptions.defaults().withObserver(watch));
        long seconds100 = (System.nanoTime() - firstCommit.get()) / 10_000_000L;
        long serverWal =
                db.count("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint") - firstLsnBytes.get();
        assertThat(run.outcome()).as(run.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.count("SELECT count(*) FROM t WHERE n <> 1")).isZero();
        double elapsed = seconds100 / 100.0;
        double rate = serverWal / elapsed;
        System.out.printf(
                "WAL budget %d B/s: server wrote %d B in %.2f s after the first chunk, %.0f B/s (%.2fx);"
                        + " the chunks measured %d B%n",
                BUDGET, serverWal, elapsed, rate, rate / BUDGET, chunkWal.get());
        assertThat(elapsed).as("a run of at least ten seconds").isGreaterThanOrEqualTo(10);
        assertThat(rate / BUDGET).as("WAL rate against the budget").isBetween(0.85, 1.15);
        // The chunks' own measure accounts for the server's WAL, bookkeeping and commits aside.
        assertThat((double) (chunkWal.get() - firstChunkWal.get()) / serverWal).isBetween(0.8, 1.05);
    }
}
