package dev.sluice.engine.preflight;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.CostEstimate;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.DatabaseTest;
import dev.sluice.engine.testing.Eventually;
import dev.sluice.engine.testing.Postgres;

import org.junit.jupiter.api.Test;

/**
 * {@code plan}'s cost estimate against what the run then writes: the WAL estimate from a rolled-back sample chunk is
 * within a factor of 1.5 of the server's own WAL position's advance over the run, on a table whose target column no
 * index reads (HOT updates possible) and on one where an index reads it (every update writes the indexes).
 */
class CostEstimateTest extends DatabaseTest {

    private static JobSpec spec(String table) {
        return SpecParser.parse("""
                name: %s
                table: %s
                key: [id]
                set: { email_lower: lower(email) }
                undo: false
                validate-after-run: false
                """.formatted(table.replace('_', '-'), table));
    }

    /** Estimates, then runs, the job on {@code table}; returns the estimate over the WAL the run wrote. */
    private double estimateOverActual(String table, CostEstimate[] seen) throws Exception {
        db.exec("CHECKPOINT");
        CostEstimate estimate = backfill.estimate(spec(table));
        seen[0] = estimate;
        long before = db.count("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint");
        RunResult run = backfill.run(spec(table), RunOptions.defaults());
        long actual = db.count("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint") - before;
        assertThat(run.outcome()).as(run.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        double ratio = estimate.walBytes() / actual;
        System.out.printf(
                "%s: estimated %.0f B of WAL (%.0f B a row from %d sample rows), the run wrote %d B: %.2fx%n",
                table, estimate.walBytes(), estimate.walPerRow(), estimate.sampleRows(), actual, ratio);
        return ratio;
    }

    @Test
    void theWalEstimateIsWithinOneAndAHalfOfTheRunsOnTwoShapesOfTable() throws Exception {
        db.exec(
                "CREATE TABLE plain_users (id bigint PRIMARY KEY, email text NOT NULL, email_lower text, pad text)",
                "INSERT INTO plain_users (id, email, pad) SELECT g, 'User' || g || '@X.ORG', repeat('p', 80)"
                        + " FROM generate_series(1, 60000) g",
                "CREATE TABLE indexed_users (id bigint PRIMARY KEY, email text NOT NULL, email_lower text, pad text)",
                "CREATE INDEX indexed_users_email_lower ON indexed_users (email_lower)",
                "CREATE INDEX indexed_users_email ON indexed_users (email)",
                "INSERT INTO indexed_users (id, email, pad) SELECT g, 'User' || g || '@X.ORG', repeat('p', 80)"
                        + " FROM generate_series(1, 60000) g",
                "VACUUM ANALYZE plain_users",
                "VACUUM ANALYZE indexed_users");
        CostEstimate[] plain = new CostEstimate[1];
        CostEstimate[] indexed = new CostEstimate[1];
        assertThat(estimateOverActual("plain_users", plain)).isBetween(1 / 1.5, 1.5);
        assertThat(estimateOverActual("indexed_users", indexed)).isBetween(1 / 1.5, 1.5);

        assertThat(plain[0].indexedTargets()).isEmpty();
        assertThat(indexed[0].indexedTargets()).containsExactly("email_lower");
        assertThat(indexed[0].indexes()).isEqualTo(3);
        assertThat(indexed[0].recommendations()).anyMatch(r -> r.contains("an index reads email_lower"));
        assertThat(indexed[0].walPerRow()).as("index entries cost WAL").isGreaterThan(plain[0].walPerRow());
        assertThat(indexed[0].indexedTargets()).isNotEmpty();
        assertThat(indexed[0].indexes()).isEqualTo(3);
        assertThat(db.count("SELECT count(*) FROM plain_users WHERE email_lower IS DISTINCT FROM lower(email)"))
                .isZero();
    }

    @Test
    void aFillfactorIsAdvisedOnlyWhereTheApplicationsOwnUpdatesWereMostlyNotHot() throws Exception {
        db.exec(
                "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, email_lower text, visits int DEFAULT 0)",
                "INSERT INTO users (id, email) SELECT g, 'U' || g FROM generate_series(1, 30000) g",
                "ANALYZE users");
        JobSpec spec = SpecParser.parse("""
                name: users-lower
                table: users
                key: [id]
                set: { email_lower: lower(email) }
                """);
        for (int plan = 1;
                plan <= 3;
                plan++) { // each sample, rolled back, counts as updates in PostgreSQL's statistics
            CostEstimate never;
            try (HikariDataSource own = Postgres.dataSource(ds.getJdbcUrl())) { // as each 'sluice plan' opens its own
                never = new Backfill(own).estimate(spec);
            }
            assertThat(never.hotShare())
                    .as("a table nobody updated has no past HOT share")
                    .isEqualTo(-1);
            assertThat(never.recommendations()).noneMatch(a -> a.contains("fillfactor"));
            long samples = 3000L * plan; // a session's statistics reach the server when it ends at the latest
            Eventually.eventually(
                    Duration.ofSeconds(30),
                    "the sample counted",
                    () -> db.count("SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'users'") >= samples);
        }
        // The application updates every row (its pages full from the load: few updates find room, so few are HOT).
        db.exec("UPDATE users SET visits = visits + 1");
        Eventually.eventually(
                Duration.ofSeconds(30),
                "the updates counted",
                () -> db.count("SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'users'") >= 39000);
        CostEstimate updated = backfill.estimate(spec);
        assertThat(updated.hotShare()).isBetween(0.0, 0.5);
        assertThat(updated.recommendations()).anyMatch(a -> a.contains("fillfactor = 90"));
    }

    @Test
    void aSlowThrottleIsSaidToTakeDays() throws Exception {
        db.exec(
                "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, email_lower text)",
                "INSERT INTO users (id, email) SELECT g, 'U' || g FROM generate_series(1, 20000) g",
                "ANALYZE users");
        CostEstimate r = backfill.estimate(SpecParser.parse("""
                name: slow
                table: users
                key: [id]
                set: { email_lower: lower(email) }
                throttle: { rows-per-second: 0, wal-bytes-per-second: 10 }
                """));
        assertThat(r.seconds()).isGreaterThan(86_400);
        assertThat(r.recommendations()).anyMatch(a -> a.contains("days"));
        assertThat(db.count("SELECT count(*) FROM users WHERE email_lower IS NOT NULL"))
                .as("nothing kept")
                .isZero();
    }
}
