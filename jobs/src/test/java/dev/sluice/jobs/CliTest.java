package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Internals;
import dev.sluice.engine.testing.Postgres;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/** The command line as operators and schedulers use it: exit codes, one-line errors, nothing written on refusal. */
class CliTest {

    @TempDir
    Path dir;

    private HikariDataSource ds;
    private Db db;
    private String url;

    @BeforeEach
    void seed() throws Exception {
        ds = Postgres.newDatabase();
        db = new Db(ds);
        url = ds.getJdbcUrl();
        db.exec(
                "CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, email_lower text, score int)",
                "INSERT INTO users SELECT g, 'U' || g || '@X.ORG', NULL FROM generate_series(1, 3000) g",
                "ANALYZE users");
        Files.createDirectories(dir.resolve("jobs"));
        write("users-lower", "set: { email_lower: lower(email) }\n");
    }

    @AfterEach
    void close() {
        ds.close();
    }

    private Path write(String name, String body) throws Exception {
        Path file = dir.resolve("jobs").resolve(name + ".yml");
        Files.writeString(
                file,
                "name: " + name + "\ntable: users\nkey: [id]\nchunk: { rows: 400, min-rows: 400, max-rows: 400 }\n"
                        + body);
        return file;
    }

    private Cli.Result sluice(String... args) {
        return Cli.run(Cli.against(dir, url, args));
    }

    @Test
    void runsAJobByNameThenReportsItComplete() {
        Cli.Result run = sluice("run", "users-lower");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("job users-lower completed: 3,000 rows in 8 chunks");
        assertThat(db.count("SELECT count(*) FROM users WHERE email_lower = lower(email)"))
                .isEqualTo(3000);

        Cli.Result again = sluice("run", "users-lower");
        assertThat(again.exitCode()).isZero();
        assertThat(again.out()).contains("already complete");
    }

    @Test
    void aBadSpecExitsTwoWithOneLineNamingTheFieldAndWritesNothing() throws Exception {
        Path unknownKey = write("typo", "set: { email_lower: lower(email) }\nchunk2: {}\n");
        Cli.Result typo = sluice("run", unknownKey.toString());
        assertThat(typo.exitCode()).isEqualTo(2);
        assertThat(typo.err().lines())
                .containsExactly(
                        "sluice: chunk2: unknown key (known keys: after, chunk, columns, contract, health, into, key, name, notify, parallel,"
                                + " schedule, set, source, sync, table, throttle, timeouts, transformer, undo, validate,"
                                + " validate-after-run, where, workers)");

        write("missing-column", "set: { email_lowr: lower(email) }\n");
        Cli.Result missing = sluice("run", "missing-column");
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err().lines())
                .containsExactly("sluice: set.email_lowr: no column 'email_lowr' in public.users");

        write("bad-type", "set: { score: lower(email) }\n");
        Cli.Result badType = sluice("run", "bad-type");
        assertThat(badType.exitCode()).isEqualTo(2);
        assertThat(badType.err())
                .startsWith("sluice: set.score: column \"score\" is of type integer but expression is of type text");

        assertThat(sluice("run", "no-such-job").err()).contains("no job spec 'no-such-job'");
        assertThat(sluice("run").exitCode()).isEqualTo(2);
        assertThat(Cli.run("run", "users-lower", "--config", dir.toString()).err())
                .contains("--jdbc-url: no database given");
        assertThat(db.exists("sluice.batch_job_instance")).isFalse();
        assertThat(db.count("SELECT count(*) FROM users WHERE email_lower IS NOT NULL"))
                .isZero();
    }

    @Test
    void aSecondRunnerExitsFourAndTouchesNothing() throws Exception {
        try (AutoCloseable held = Internals.holdRunnerLock(ds, "users-lower")) {
            Cli.Result second = sluice("run", "users-lower");
            assertThat(second.exitCode()).isEqualTo(4);
            assertThat(second.err())
                    .contains("job users-lower is already running")
                    .contains("pid");
        }
        assertThat(db.count("SELECT count(*) FROM users WHERE email_lower IS NOT NULL"))
                .isZero();
    }

    @Test
    void aFailedJobExitsOneAndRefusesChangedSemanticsUntilForced() throws Exception {
        db.exec("""
                CREATE FUNCTION no_1234() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF NEW.id = 1234 THEN RAISE EXCEPTION 'row 1234 is special'; END IF; RETURN NEW; END $$""", "CREATE TRIGGER no_1234 BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION no_1234()");
        // Without a journal: with one, even --force is refused until the job is rolled back (RollbackTest).
        write("users-lower", "set: { email_lower: lower(email) }\nundo: false\n");
        Cli.Result failed = sluice("run", "users-lower");
        assertThat(failed.exitCode()).isEqualTo(1);
        assertThat(failed.err())
                .contains("job users-lower failed: chunk (1200, 1600] failed: row 1234 is special"
                        + " [SQLSTATE P0001]; 'resume users-lower' continues it");

        Cli.Result status = sluice("status", "users-lower", "--json");
        Map<String, Object> json = JsonMapper.builder().build().readValue(status.out(), new TypeReference<>() {});
        assertThat(json)
                .containsEntry("state", "FAILED")
                .containsEntry("lastKey", "1200")
                .containsEntry("rowsProcessed", 1200);
        assertThat((String) json.get("lastError")).contains("row 1234 is special");

        db.exec("DROP TRIGGER no_1234 ON users");
        write("users-lower", "set: { email_lower: upper(email) }\nundo: false\n");
        Cli.Result refused = sluice("resume", "users-lower");
        assertThat(refused.exitCode()).isEqualTo(2);
        assertThat(refused.err()).startsWith("sluice: set: changed since job users-lower started (set)");

        Cli.Result forced = sluice("resume", "users-lower", "--force");
        assertThat(forced.exitCode()).as(forced.err()).isZero();
        assertThat(db.count("SELECT count(*) FROM users WHERE email_lower = upper(email)"))
                .isEqualTo(1800);
    }

    @Test
    void statusJsonCarriesTheFieldsOfTheDesign() {
        assertThat(sluice("run", "users-lower").exitCode()).isZero();
        Cli.Result status = sluice("status", "--json");
        assertThat(status.exitCode()).isZero();
        Map<String, Object> json = JsonMapper.builder().build().readValue(status.out(), new TypeReference<>() {});
        assertThat(json)
                .containsKeys(
                        "job",
                        "state",
                        "rowsProcessed",
                        "rowsEstimated",
                        "chunks",
                        "lastKey",
                        "rowsPerSecond",
                        "etaSeconds",
                        "chunkRows",
                        "throttleReason",
                        "lastError");
        assertThat(json)
                .containsEntry("job", "users-lower")
                .containsEntry("state", "COMPLETED")
                .containsEntry("rowsProcessed", 3000)
                .containsEntry("chunks", 8)
                .containsEntry("lastKey", "3000")
                .containsEntry("chunkRows", 400);
        assertThat(sluice("status").out())
                .contains("users-lower")
                .contains("COMPLETED")
                .contains("100.0%");
    }

    @Test
    void statusOfASpecThatNeverRanIsNotStartedAndOfANameNobodyKnowsIsBadInput() throws Exception {
        write("never-run", "set: { email_lower: lower(email) }\n");
        Cli.Result named = sluice("status", "never-run", "--json");
        assertThat(named.exitCode()).isZero();
        assertThat(named.out()).contains("\"state\":\"NOT_STARTED\"");
        Cli.Result unknown = sluice("status", "no-such-job");
        assertThat(unknown.exitCode()).isEqualTo(2);
        assertThat(unknown.err().lines())
                .singleElement()
                .asString()
                .startsWith("sluice: JOB: no job spec 'no-such-job'")
                .contains("no job of that name has run");
    }

    @Test
    void planAndDryRunShowWhatWouldHappenAndWriteNothing() {
        Cli.Result plan = sluice("plan", "users-lower");
        assertThat(plan.exitCode()).as(plan.err()).isZero();
        assertThat(plan.out())
                .contains("ok   key        [id] NOT NULL, ordered by unique index users_pkey (primary key)")
                .contains("ok   estimate   ~3,000 rows, ~8 chunks of 400 rows")
                .contains("write chunk:")
                .contains("UPDATE public.users SET \"email_lower\" = (lower(email))");

        Cli.Result dry = sluice("run", "users-lower", "--dry-run");
        assertThat(dry.exitCode()).as(dry.err()).isZero();
        assertThat(dry.out())
                .contains("first chunk (start, 400], 400 rows in range, 400 written")
                .contains("key 1  email_lower: null -> u1@x.org");
        assertThat(db.count("SELECT count(*) FROM users WHERE email_lower IS NOT NULL"))
                .isZero();
        assertThat(db.exists("sluice.batch_job_instance")).isFalse();
    }

    @Test
    void everyVerbWorksFromARecordedJobsNameAloneRepairIncluded() throws Exception {
        Path file = write("users-checked", """
                set: { email_lower: lower(email) }
                validate: [ { target: email_lower, source: lower(email) } ]
                """);
        assertThat(sluice("run", "users-checked").exitCode()).isZero();
        Files.delete(file);
        db.exec("UPDATE users SET email_lower = 'wrong' WHERE id % 100 = 0");

        Cli.Result validate = sluice("validate", "users-checked");
        assertThat(validate.exitCode()).as(validate.err()).isEqualTo(3);
        Cli.Result repair = sluice("run", "users-checked", "--only-mismatched");
        assertThat(repair.exitCode()).as(repair.out() + repair.err()).isZero();
        assertThat(db.count("SELECT count(*) FROM users WHERE email_lower IS DISTINCT FROM lower(email)"))
                .isZero();
        assertThat(sluice("plan", "users-checked").exitCode()).isZero();
        assertThat(sluice("status", "users-checked").out()).contains("COMPLETED");
    }

    @Test
    void planWarnsWhenTheRoleCannotSeeWhatAHealthSignalReads() throws Exception {
        // Roles belong to the server, not the database: a name of this test's own, dropped at the end.
        String role = "plain_" + Postgres.databaseOf(ds);
        db.exec("CREATE ROLE " + role + " LOGIN PASSWORD 'plain-pw'", "GRANT SELECT, UPDATE ON users TO " + role);
        try {
            write("users-watched", "set: { email_lower: lower(email) }\nhealth: { active-sessions: { max: 20 } }\n");
            String[] asRole = {
                "plan",
                "users-watched",
                "--config",
                dir.toString(),
                "--jdbc-url",
                url,
                "--user",
                role,
                "--password",
                "plain-pw"
            };
            Cli.Result plain = Cli.run(asRole);
            assertThat(plain.exitCode()).as(plain.err()).isZero();
            String grant = "grant it: GRANT pg_read_all_stats TO " + role + " (or pg_monitor)";
            assertThat(plain.out()
                            .lines()
                            .filter(l -> l.contains("WARN") && l.contains(grant))
                            .toList())
                    .anySatisfy(l -> assertThat(l)
                            .contains("health.autovacuum: role " + role)
                            .contains("pg_stat_progress_vacuum"))
                    .anySatisfy(l -> assertThat(l)
                            .contains("health.replica-lag: role " + role)
                            .contains("pg_stat_replication"))
                    .anySatisfy(l -> assertThat(l)
                            .contains("health.active-sessions: role " + role)
                            .contains("pg_stat_activity"));

            db.exec("GRANT pg_monitor TO " + role);
            Cli.Result monitor = Cli.run(asRole);
            assertThat(monitor.exitCode()).as(monitor.err()).isZero();
            assertThat(monitor.out()).doesNotContain("pg_read_all_stats");
            assertThat(sluice("plan", "users-watched").out())
                    .as("a superuser sees everything")
                    .doesNotContain("pg_read_all_stats");
        } finally {
            db.exec("DROP OWNED BY " + role, "DROP ROLE " + role);
        }
    }

    @Test
    void applicationYmlIsReadAsStrictlyAsASpec() throws Exception {
        Files.writeString(dir.resolve("application.yml"), "sluice:\n  datasource:\n    pasword: typo\n");
        Cli.Result typo = sluice("status");
        assertThat(typo.exitCode()).isEqualTo(2);
        assertThat(typo.err().lines())
                .singleElement()
                .asString()
                .startsWith("sluice: sluice.datasource.pasword: unknown key");
        Files.writeString(dir.resolve("application.yml"), "sluice:\n  datasource:\n    password: [S3cretPw, b]\n");
        Cli.Result list = sluice("status");
        assertThat(list.exitCode()).isEqualTo(2);
        assertThat(list.err())
                .startsWith("sluice: sluice.datasource.password: expected a single value")
                .doesNotContain("S3cretPw");
        Files.writeString(
                dir.resolve("application.yml"),
                "sluice:\n  datasource: { url: jdbc:postgresql://h/db, password: a: S3cretPw }\n");
        Cli.Result broken = sluice("status");
        assertThat(broken.exitCode()).isEqualTo(2);
        assertThat(broken.err().lines())
                .singleElement()
                .asString()
                .startsWith("sluice: " + dir.resolve("application.yml") + ": not valid YAML at line 2, column 57: ")
                .contains("quote a value or expression that holds")
                .doesNotContain("S3cretPw");
    }

    @Test
    void passwordsNeverReachTheOutput() {
        Cli.Result run = Cli.run(
                "run",
                "users-lower",
                "--config",
                dir.toString(),
                "--jdbc-url",
                url + "?password=s3cret-pw",
                "--user",
                "postgres");
        assertThat(run.out() + run.err()).doesNotContain("s3cret-pw").contains("password=***");
    }
}
