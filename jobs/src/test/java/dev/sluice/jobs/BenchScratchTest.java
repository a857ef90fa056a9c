package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import dev.sluice.engine.testing.Eventually;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code bench --jdbc-url} runs on a user's own server only in a scratch database: one that holds tables of its own is
 * refused (exit 2, naming a table), and nothing is written to it.
 */
class BenchScratchTest extends CliDatabaseTest {

    @Test
    void aDatabaseWithTablesOfItsOwnIsRefusedAndLeftAsItWas() {
        db.exec("CREATE TABLE orders (id int PRIMARY KEY)");
        Cli.Result r = Cli.run("bench", "--jdbc-url", ds.getJdbcUrl() + "?user=postgres", "--rows", "1000");
        assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(2);
        assertThat(r.err().strip())
                .startsWith("sluice: --jdbc-url: database ")
                .contains("holds tables of its own (public.orders)")
                .contains("scratch database");
        assertThat(db.count("SELECT count(*) FROM pg_class WHERE relname LIKE 'bench%'"))
                .isZero();
        assertThat(db.exists("sluice.batch_job_instance")).isFalse();
    }

    /**
     * A schema named as Sluice's job repository is, but holding no repository, is the user's: its tables are refused
     * like any other, and it is never dropped.
     */
    @Test
    void aSchemaNamedSluiceThatIsNoRepositoryIsTheUsers() {
        db.exec("CREATE SCHEMA sluice", "CREATE TABLE sluice.notes (id int PRIMARY KEY)");
        Cli.Result r = Cli.run("bench", "--jdbc-url", ds.getJdbcUrl(), "--user", "postgres", "--rows", "1000");
        assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(2);
        assertThat(r.err()).contains("holds tables of its own (sluice.notes)");
        assertThat(db.exists("sluice.notes")).isTrue();
    }

    /**
     * The loops over every kind of key (the PL/pgSQL loop's and the client's statements are built from the key's
     * columns and types) walk the whole table in fixed batches, the last a short one: every row written as the single
     * UPDATE writes it, and nothing left behind.
     */
    @ParameterizedTest
    @ValueSource(strings = {"bigint", "uuid", "text"})
    void theLoopsWalkTheTableOnEveryKindOfKey(String key) {
        Cli.Result r = Cli.run(
                "bench",
                "--jdbc-url",
                ds.getJdbcUrl(),
                "--user",
                "postgres",
                "--rows",
                "2000",
                "--rounds",
                "1",
                "--chunk",
                "300",
                "--fixed-chunks",
                "--key",
                key,
                "--only",
                "plpgsql,client");
        assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
        assertThat(r.out())
                .containsPattern("(?m)^PL/pgSQL keyset loop, COMMIT per batch .* yes$")
                .containsPattern("(?m)^JDBC keyset loop, one statement and COMMIT per batch .* yes$")
                .contains("the JDBC loop against the PL/pgSQL loop: rows/s ratio, same round");
        assertThat(db.count("SELECT count(*) FROM pg_class WHERE relname LIKE 'bench%'"))
                .isZero();
    }

    /** A table named as the benchmark names its own, but not made by it, is the user's: refused, never dropped. */
    @Test
    void aTableNamedLikeTheBenchmarksButNotMadeByItIsRefused() {
        db.exec("CREATE TABLE bench_results (id int PRIMARY KEY)", "INSERT INTO bench_results VALUES (1)");
        Cli.Result r = Cli.run("bench", "--jdbc-url", ds.getJdbcUrl() + "?user=postgres", "--rows", "1000");
        assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(2);
        assertThat(r.err()).contains("holds tables of its own (public.bench_results)");
        assertThat(db.count("SELECT count(*) FROM bench_results")).isEqualTo(1);
    }

    /**
     * A user who may not create what the benchmark creates (its tables in the first schema of the search path, Sluice's
     * job repository in the database) is refused before anything is created, naming what it may not create.
     */
    @Test
    void aUserWhoMayNotCreateTablesOrTheRepositoryIsRefused() {
        String database = db.one("SELECT current_database()");
        db.exec("CREATE ROLE bench_guest LOGIN");
        try {
            String[] bench = {"bench", "--jdbc-url", ds.getJdbcUrl(), "--user", "bench_guest", "--rows", "1000"};
            // From PostgreSQL 15, only the database's owner may create in public.
            db.exec("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
            Cli.Result r = Cli.run(bench);
            assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(2);
            assertThat(r.err().strip())
                    .isEqualTo(
                            "sluice: --jdbc-url: user bench_guest may not create tables in schema public of database "
                                    + database
                                    + "; the benchmark needs a scratch database this user owns (CREATE DATABASE"
                                    + " sluice_bench OWNER bench_guest)");

            db.exec("GRANT CREATE ON SCHEMA public TO bench_guest");
            r = Cli.run(bench);
            assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(2);
            assertThat(r.err())
                    .contains("user bench_guest may not create a schema (for Sluice's job repository) in database "
                            + database);
            assertThat(db.count("SELECT count(*) FROM pg_class WHERE relname LIKE 'bench%'"))
                    .isZero();
            assertThat(db.exists("sluice.batch_job_instance")).isFalse();
        } finally {
            db.exec("DROP OWNED BY bench_guest", "DROP ROLE bench_guest");
        }
    }

    /**
     * A user who may not CHECKPOINT (not a superuser) runs it: said once, and the contenders run without. A table an
     * interrupted run of the benchmark left (marked as its own) is no table of the user's: taken over and dropped.
     * Its tables go to the first schema of the search path, here the user's own.
     */
    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aUserWhoMayNotCheckpointRunsItAndALeftoverOfAnInterruptedRunIsDropped() {
        db.exec(
                "CREATE ROLE bench_runner LOGIN",
                "GRANT CREATE ON DATABASE " + db.one("SELECT current_database()") + " TO bench_runner",
                // A schema of the user's own, first on the default search_path ("$user", public): the benchmark's
                // tables go there, and are found and dropped there.
                "CREATE SCHEMA bench_runner AUTHORIZATION bench_runner",
                "SET ROLE bench_runner",
                "CREATE TABLE bench_base (id bigint PRIMARY KEY)",
                "COMMENT ON TABLE bench_base IS 'sluice bench'",
                "RESET ROLE");
        try {
            Cli.Result r = Cli.run(
                    "bench",
                    // The user as every command takes it: the contenders' processes connect as this user too.
                    "--jdbc-url",
                    ds.getJdbcUrl(),
                    "--user",
                    "bench_runner",
                    "--rows",
                    "2000",
                    "--rounds",
                    "1",
                    "--only",
                    "sluice-sql");
            assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
            assertThat(r.out())
                    .containsOnlyOnce("no CHECKPOINT before each contender: this user may not")
                    .contains("Sluice, SQL mode, checkpoint per chunk");
            assertThat(db.count("SELECT count(*) FROM pg_class WHERE relname LIKE 'bench%'"))
                    .isZero();
            assertThat(db.exists("sluice.batch_job_instance")).isFalse();
        } finally {
            db.exec("DROP OWNED BY bench_runner", "DROP ROLE bench_runner");
        }
    }

    /**
     * Another session's snapshot keeps VACUUM from making a contender's copy all-visible (on a user's server: an
     * autovacuum ANALYZE, a long transaction): the bench waits for it to pass, and names it when it does not.
     */
    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aSnapshotHeldByAnotherSessionIsWaitedForThenNamed() throws Exception {
        String[] bench = {
            "bench",
            "--jdbc-url",
            ds.getJdbcUrl() + "?user=postgres",
            "--rows",
            "2000",
            "--rounds",
            "1",
            "--only",
            "sluice-sql"
        };
        try (Connection holder = ds.getConnection()) {
            holder.setAutoCommit(false);
            holder.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            int pid;
            try (Statement st = holder.createStatement();
                    ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                pid = rs.getInt(1);
            }
            Cli.Result held = Cli.run(bench);
            assertThat(held.exitCode()).as(held.out() + held.err()).isNotZero();
            assertThat(held.err())
                    .contains("not all-visible, so the contenders would not start alike")
                    .contains("session pid " + pid + " (");
            holder.rollback();

            // Released while the bench waits: it goes on. The snapshot is taken again, and let go only once the bench
            // has copied its first table and has had the time to find it not all-visible.
            try (Statement st = holder.createStatement()) {
                st.executeQuery("SELECT 1").close();
            }
            Thread release = new Thread(() -> {
                try {
                    Eventually.eventually(
                            Duration.ofSeconds(60), "the bench's first copy", () -> db.exists("bench_limit"));
                    Thread.sleep(1_500);
                    holder.rollback();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            release.start();
            Cli.Result ran = Cli.run(bench);
            release.join(TimeUnit.SECONDS.toMillis(60));
            assertThat(ran.exitCode()).as(ran.out() + ran.err()).isZero();
            assertThat(ran.out()).contains("Sluice, SQL mode, checkpoint per chunk");
        }
    }

    /**
     * Interrupted while a contender runs, by a SIGTERM to the bench alone (a CI job's timeout) or to it and every
     * process it started at once (as Ctrl-C reaches the terminal's whole process group): the contender is stopped,
     * the bench's session ended, its tables and the schema of the job repository it made dropped, and that said in
     * one line instead of a report; nothing of the benchmark is left on the user's server.
     */
    @ParameterizedTest(name = "signalled: {0}")
    @ValueSource(strings = {"the bench", "the bench and its contenders"})
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void anInterruptedRunDropsWhatItMadeAndSaysSo(String signalled, @TempDir Path tmp) throws Exception {
        Path log = tmp.resolve("bench.log");
        String ours = "datname = current_database() AND application_name LIKE 'sluice runner%'";
        Process bench = Cli.spawn(
                log,
                "bench",
                "--jdbc-url",
                ds.getJdbcUrl(),
                "--user",
                "postgres",
                "--rows",
                "300000",
                "--chunk",
                "100",
                "--fixed-chunks",
                "--rounds",
                "1",
                "--only",
                "sluice-sql-undo");
        try {
            Eventually.eventually(
                    Duration.ofSeconds(90),
                    "a contender's chunks",
                    () -> db.count("SELECT count(*) FROM pg_stat_activity WHERE " + ours) > 0 || !bench.isAlive());
            assertThat(bench.isAlive()).as(Files.readString(log)).isTrue();
            if (signalled.equals("the bench and its contenders")) {
                bench.descendants().forEach(ProcessHandle::destroy);
            }
            bench.destroy();
            assertThat(bench.waitFor(60, TimeUnit.SECONDS)).as("the bench ends").isTrue();
        } finally {
            bench.descendants().forEach(ProcessHandle::destroyForcibly);
            bench.destroyForcibly();
        }
        String out = Files.readString(log);
        assertThat(out)
                .as(out)
                .contains("sluice bench: interrupted; its tables dropped from database ")
                .contains("and the schema sluice of its job repository")
                .doesNotContain("x limit")
                .doesNotContain("failed")
                .doesNotContain("Exception");
        assertThat(db.count("SELECT count(*) FROM pg_class WHERE relname LIKE 'bench%'"))
                .isZero();
        assertThat(db.one("SELECT to_regnamespace('sluice') IS NULL")).isEqualTo("t");
        Eventually.eventually(
                Duration.ofSeconds(30),
                "no session of the contender",
                () -> db.count("SELECT count(*) FROM pg_stat_activity WHERE " + ours) == 0);
    }

    /**
     * The schema of a job repository that an interrupted bench made (marked so) goes at the end of the next run when it
     * holds only the benchmark's jobs; holding a job of someone else's, it is theirs and stays.
     */
    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aRepositoryAnInterruptedBenchMadeGoesUnlessItHoldsOtherJobs() {
        markedRepository("bench-bench-sluice-sql-x-1");
        String[] bench = {
            "bench",
            "--jdbc-url",
            ds.getJdbcUrl(),
            "--user",
            "postgres",
            "--rows",
            "2000",
            "--rounds",
            "1",
            "--only",
            "plpgsql"
        };
        Cli.Result r = Cli.run(bench);
        assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
        assertThat(db.one("SELECT to_regnamespace('sluice') IS NULL")).isEqualTo("t");

        markedRepository("bench-bench-sluice-sql-x-1", "orders-email");
        r = Cli.run(bench);
        assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
        assertThat(db.count("SELECT count(*) FROM sluice.batch_job_instance")).isEqualTo(2);
        assertThat(db.count("SELECT count(*) FROM pg_class WHERE relname LIKE 'bench%'"))
                .isZero();
        db.exec("DROP SCHEMA sluice CASCADE");
    }

    /** A schema sluice as an interrupted bench leaves it (marked), its job repository holding these jobs. */
    private void markedRepository(String... jobs) {
        db.exec(
                "CREATE SCHEMA sluice",
                "COMMENT ON SCHEMA sluice IS 'sluice bench'",
                "CREATE TABLE sluice.batch_job_instance (job_instance_id bigint PRIMARY KEY, job_name text)");
        for (int i = 0; i < jobs.length; i++) {
            db.exec("INSERT INTO sluice.batch_job_instance VALUES (" + (i + 1) + ", '" + jobs[i] + "')");
        }
    }
}
