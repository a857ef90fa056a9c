package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Postgres;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input, every class of it, from every command that reads it: exit 2, exactly one line on standard error that
 * starts by naming the field or option as the operator wrote it, no job record created, and the table unchanged.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputTest {

    private static final String BASE = "name: bad\ntable: users\nkey: [id]\n";
    private static final String SET = "set: { email_lower: lower(email) }\n";
    private static final String CHECKSUM = "SELECT md5(string_agg(u::text, ',' ORDER BY id)) FROM users u";

    @TempDir
    static Path dir;

    private HikariDataSource ds;
    private Db db;
    private String checksum;
    private final AtomicInteger files = new AtomicInteger();

    @BeforeAll
    void database() throws Exception {
        ds = Postgres.newDatabase();
        db = new Db(ds);
        db.exec(
                "CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, email_lower text, score int, data jsonb)",
                "INSERT INTO users (id, email) SELECT g, 'U' || g || '@X.ORG' FROM generate_series(1, 500) g",
                "CREATE TABLE loose (id int, v int)",
                "CREATE TABLE nonunique (id int NOT NULL, v int)",
                "CREATE INDEX ON nonunique (id)",
                "CREATE TABLE users_copy (id int PRIMARY KEY, email text)",
                "CREATE TABLE victim (id int)",
                "CREATE TABLE contacts (id int PRIMARY KEY, mobile text, mobile_e164 text, cc text)",
                "INSERT INTO contacts (id, mobile) SELECT g, '(201) 555-01' || lpad(g::text, 2, '0') FROM generate_series(1, 50) g",
                // An application's trigger that would fire after Sluice's and may change what the job reads.
                "CREATE TABLE guarded (id int PRIMARY KEY, email text NOT NULL, email_lower text)",
                "INSERT INTO guarded (id, email) SELECT g, 'U' || g || '@X.ORG' FROM generate_series(1, 50) g",
                "CREATE FUNCTION tidy() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.email := trim(NEW.email);"
                        + " RETURN NEW; END $$",
                "CREATE TRIGGER \"~zz_tidy\" BEFORE INSERT OR UPDATE ON guarded FOR EACH ROW EXECUTE FUNCTION tidy()");
        checksum = checksums();
        Files.createDirectories(dir.resolve("jobs"));
    }

    private String checksums() {
        return db.one(CHECKSUM)
                + db.one(CHECKSUM.replace("users", "contacts"))
                + db.one(CHECKSUM.replace("users", "guarded"));
    }

    @AfterAll
    void close() {
        ds.close();
    }

    /** A spec case: the YAML body after {@link #BASE} (or a whole spec), the field the error must start with. */
    private static Arguments spec(String field, String yaml) {
        return Arguments.of(field, yaml, null);
    }

    /** A command-line case: the arguments (JOB "good" is a valid spec), the field or option the error names. */
    private static Arguments line(String field, String... args) {
        return Arguments.of(field, null, args);
    }

    private static final String TARGET = "  - { name: a, jdbc-url: \"jdbc:postgresql://localhost/a\" }\n";
    private static final java.util.Map<String, String> FLEETS = java.util.Map.of(
            "password",
                    "name: f\ntargets:\n" + TARGET
                            + "  - { name: b, jdbc-url: \"jdbc:postgresql://localhost/b?password=pw\" }\n",
            "badname", "name: f\ntargets:\n  - { name: Shard A, jdbc-url: \"jdbc:postgresql://localhost/a\" }\n",
            "twice", "name: f\ntargets:\n" + TARGET + TARGET,
            "shrinking", "name: f\ntargets:\n" + TARGET + "rollout: { waves: [50%, 25%] }\n",
            "notashare", "name: f\ntargets:\n" + TARGET + "rollout: { waves: [half] }\n",
            "crowd", "name: f\ntargets:\n" + TARGET + "concurrency: 0\n",
            "empty", "name: f\ntargets: []\n",
            "typo", "name: f\ntargets:\n" + TARGET + "rollout: { pauze: 1m }\n",
            "fine", "name: f\ntargets:\n" + TARGET,
            "samevariable",
                    "name: f\ntargets:\n  - { name: shard-1, jdbc-url: \"jdbc:postgresql://localhost/a\" }\n"
                            + "  - { name: shard_1, jdbc-url: \"jdbc:postgresql://localhost/b\" }\n");

    static Stream<Arguments> cases() {
        List<Arguments> c = new ArrayList<>();
        // The spec's structure: keys, types, units, ranges.
        c.add(spec("chunk2", BASE + SET + "chunk2: {}\n"));
        c.add(spec("chunk.rowz", BASE + SET + "chunk: { rowz: 5 }\n"));
        c.add(spec("parallel", BASE + SET + "parallel: 0\n"));
        c.add(spec("parallel", BASE + SET + "parallel: -2\n"));
        c.add(spec("parallel", BASE + SET + "parallel: 33\n"));
        c.add(spec("parallel", BASE + SET + "parallel: two\n"));
        c.add(spec("parallel", BASE + SET + "parallel: 1.5\n"));
        c.add(spec("parallel", BASE + SET + "parallel: [2]\n"));
        c.add(spec("chunk.rows", BASE + SET + "chunk: { rows: abc }\n"));
        c.add(spec("chunk.rows", BASE + SET + "chunk: { rows: 2.5 }\n"));
        c.add(spec("chunk.rows", BASE + SET + "chunk: { rows: 0 }\n"));
        c.add(spec("chunk.rows", BASE + SET + "chunk: { rows: 50, min-rows: 100 }\n"));
        c.add(spec("chunk.rows", BASE + SET + "chunk: { rows: 500, max-rows: 100 }\n"));
        c.add(spec("chunk.min-rows", BASE + SET + "chunk: { min-rows: 0 }\n"));
        c.add(spec("chunk.min-rows", BASE + SET + "chunk: { min-rows: 20, max-rows: 10 }\n"));
        c.add(spec("chunk.max-rows", BASE + SET + "chunk: { max-rows: -4 }\n"));
        c.add(spec("chunk.target", BASE + SET + "chunk: { target: 25x }\n"));
        c.add(spec("chunk.target", BASE + SET + "chunk: { target: 250 }\n"));
        c.add(spec("chunk.target", BASE + SET + "chunk: { target: 0ms }\n"));
        c.add(spec("throttle.rows-per-second", BASE + SET + "throttle: { rows-per-second: -5 }\n"));
        c.add(spec("throttle.validate-rows-per-second", BASE + SET + "throttle: { validate-rows-per-second: -1 }\n"));
        c.add(spec("throttle.pause", BASE + SET + "throttle: { pause: soon }\n"));
        c.add(spec("health.slot-lag.max-bytes", BASE + SET + "health: { slot-lag: { max-bytes: 1XB } }\n"));
        c.add(spec("health.replica-lag.max-bytes", BASE + SET + "health: { replica-lag: { max-bytes: 0 } }\n"));
        c.add(spec("health.replica-lag.max", BASE + SET + "health: { replica-lag: { max: 0s } }\n"));
        c.add(spec("health.poll", BASE + SET + "health: { poll: 0s }\n"));
        c.add(spec("health.autovacuum", BASE + SET + "health: { autovacuum: sometimes }\n"));
        c.add(spec("health.lock-waiters.max-wait", BASE + SET + "health: { lock-waiters: { max-wait: soon } }\n"));
        c.add(spec("health.active-sessions.max", BASE + SET + "health: { active-sessions: { max: -1 } }\n"));
        c.add(spec("health.active-sessions.max", BASE + SET + "health: { active-sessions: { max: many } }\n"));
        c.add(spec("health.query.sql", BASE + SET + "health: { query: { max: 3 } }\n"));
        c.add(spec("health.query.sql", BASE + SET + "health: { query: { sql: \"SELECT 1; DELETE FROM users\" } }\n"));
        c.add(spec("health.query.sql", BASE + SET + "health: { query: { sql: \"SELECT now()\" } }\n"));
        c.add(spec("health.query.sql", BASE + SET + "health: { query: { sql: \"SELECT nope FROM users\" } }\n"));
        c.add(spec("health.query.max", BASE + SET + "health: { query: { sql: \"SELECT 1\", max: lots } }\n"));
        c.add(spec("health.query.sql", BASE + SET + "health: { query: { sql: \"SELECT 'many'\" } }\n"));
        c.add(spec(
                "health.query.sql", BASE + SET + "health: { query: { sql: \"SELECT email FROM users LIMIT 1\" } }\n"));
        c.add(spec(
                "health.query.sql",
                BASE + SET + "health: { query: { sql: \"SELECT pg_terminate_backend(pg_backend_pid())::int\" } }\n"));
        c.add(spec(
                "health.query.sql",
                BASE + SET + "health: { query: { sql: \"SELECT count(*) FROM users WHERE random() < 0.5\" } }\n"));
        c.add(spec(
                "health.query.sql",
                BASE + SET + "health: { query: { sql: \"SELECT length(dblink_exec('host=h user=u"
                        + " password=pw', 'DELETE FROM t'))\" } }\n"));
        c.add(spec("health.poll", BASE + SET + "health: { poll: often }\n"));
        c.add(spec("timeouts.lock", BASE + SET + "timeouts: { lock: -1s }\n"));
        c.add(spec("timeouts.statement", BASE + SET + "timeouts: { statement: 0s }\n"));
        c.add(spec("timeouts.reconnect", BASE + SET + "timeouts: { reconnect: 0s }\n"));
        c.add(spec("name", "name: Bad!\ntable: users\nkey: [id]\n" + SET));
        c.add(spec("name", "name: " + "n".repeat(64) + "\ntable: users\nkey: [id]\n" + SET));
        c.add(spec("name", "table: users\nkey: [id]\n" + SET));
        c.add(spec("name", BASE + "name: again\n" + SET));
        c.add(spec("table", "name: bad\nkey: [id]\n" + SET));
        c.add(spec("key", "name: bad\ntable: users\n" + SET));
        c.add(spec("key", "name: bad\ntable: users\nkey: [id, id]\n" + SET));
        c.add(spec("set", BASE));
        c.add(spec("set", BASE + SET + "transformer: phone-e164\n"));
        c.add(spec("set", BASE + "set: lower(email)\n"));
        c.add(spec("columns", BASE + SET + "columns: { email: email }\n"));
        c.add(spec("columns", BASE + "into: users_copy\n"));
        c.add(spec("validate[0]", BASE + SET + "validate: [ { target: email_lower } ]\n"));
        c.add(spec(
                "validate[0]", BASE + SET + "validate: [ { target: email_lower, source: email, check: \"true\" } ]\n"));
        c.add(spec("validate-after-run", BASE + SET + "validate-after-run: maybe\n"));
        // Booleans are true or false, never a number; numbers, sizes and durations within what their field holds.
        c.add(spec("undo", BASE + SET + "undo: 0\n"));
        c.add(spec("health.autovacuum", BASE + SET + "health: { autovacuum: 2 }\n"));
        c.add(spec("validate-after-run", BASE + SET + "validate-after-run: 1\n"));
        c.add(spec("sync", BASE + SET + "sync: 1\n"));
        c.add(spec("chunk.rows", BASE + SET + "chunk: { rows: 99999999999999999999 }\n"));
        c.add(spec("throttle.rows-per-second", BASE + SET + "throttle: { rows-per-second: 99999999999999999999 }\n"));
        c.add(spec(
                "health.slot-lag.max-bytes",
                BASE + SET + "health: { slot-lag: { max-bytes: 99999999999999999999 } }\n"));
        c.add(spec("health.query.max", BASE + SET + "health: { query: { sql: \"SELECT 1\", max: 1e400 } }\n"));
        c.add(spec("timeouts.statement", BASE + SET + "timeouts: { statement: 30d }\n"));
        // YAML that an unquoted expression breaks: the key, the line and column, and the fix.
        c.add(spec("where", BASE + SET + "where: email: x\n"));
        c.add(spec("set.email_lower", BASE + "set: { email_lower: lower(email): x }\n"));
        // sync: trigger where a trigger cannot keep the rows right, and a mode that does not exist.
        c.add(spec("sync", BASE + SET + "sync: triggers\n"));
        c.add(spec("sync", BASE + SET + "sync: [ trigger ]\n"));
        c.add(spec("set.score", BASE + "sync: trigger\nset: { score: score + 1 }\n"));
        c.add(spec("set.email_lower", BASE + "sync: trigger\nset: { email_lower: \"lower(email) || now()\" }\n"));
        c.add(spec("set.email_lower", BASE + "sync: trigger\nset: { email_lower: \"md5(random()::text)\" }\n"));
        c.add(spec("where", BASE + SET + "sync: trigger\nwhere: \"email_lower IS NULL\"\n"));
        c.add(spec("set.score", BASE + "sync: trigger\nset: { score: \"(SELECT count(*) FROM loose)::int\" }\n"));
        c.add(spec(
                "columns.email",
                BASE + "sync: trigger\ninto: users_copy\ncolumns: { id: id, email: clock_timestamp()::text }\n"));
        c.add(spec("sync", "name: bad\ntable: guarded\nkey: [id]\nsync: trigger\n" + SET));
        // Fields only serve uses are checked by every command.
        c.add(spec("schedule.cron", BASE + SET + "schedule: { cron: \"every minute\" }\n"));
        c.add(spec("schedule.cron", BASE + SET + "schedule: { cron: \"* * * *\" }\n"));
        c.add(spec("schedule.cron", BASE + SET + "schedule: { window: \"01:00-02:00\" }\n"));
        c.add(spec("schedule.window", BASE + SET + "schedule: { cron: \"0 * * * * *\", window: \"1am to 2am\" }\n"));
        c.add(spec("schedule.window", BASE + SET + "schedule: { cron: \"0 * * * * *\", window: \"01:00-01:00\" }\n"));
        c.add(spec(
                "schedule.window",
                BASE + SET + "schedule: { cron: \"0 * * * * *\", window: \"01:00-02:00 Mars/Base\" }\n"));
        c.add(spec("schedule.window", BASE + SET + "schedule: { cron: \"0 * * * * *\", window: \"25:00-02:00\" }\n"));
        // URLs recorded with the job: PostgreSQL, well formed, no password.
        c.add(spec(
                "health.replicas[0]",
                BASE + SET + "health: { replicas: [ \"jdbc:postgresql://s1/app?password=pw\" ] }\n"));
        c.add(
                spec(
                        "health.replicas[1]",
                        BASE + SET
                                + "health: { replicas: [ \"jdbc:postgresql://s1/app\", \"jdbc:postgresql://u:pw@s2/app\" ] }\n"));
        c.add(spec("health.replicas[0]", BASE + SET + "health: { replicas: [ \"jdbc:postgresql://s1:port/app\" ] }\n"));
        c.add(spec("health.replicas[0]", BASE + SET + "health: { replicas: [ \"jdbc:mysql://s1/app\" ] }\n"));
        c.add(spec(
                "health.replicas[0]",
                BASE + SET + "health: { replicas: [ \"jdbc:postgresql://s1/app?sslpassword=k\" ] }\n"));
        c.add(spec(
                "source.jdbc-url",
                BASE + "into: users_copy\ncolumns: { id: id }\n"
                        + "source: { jdbc-url: \"jdbc:postgresql://old/app?user=u&password=pw\" }\n"));
        c.add(spec(
                "source.jdbc-url",
                BASE + "into: users_copy\ncolumns: { id: id }\n"
                        + "source: { jdbc-url: \"jdbc:postgresql://u:pw@old/app\" }\n"));
        c.add(spec("source", BASE + SET + "source: { jdbc-url: \"jdbc:postgresql://old/app\" }\n"));
        // Checked against the database.
        c.add(spec("table", "name: bad\ntable: nosuch\nkey: [id]\n" + SET));
        c.add(spec("key", BASE.replace("[id]", "[nope]") + SET));
        c.add(spec("key", "name: bad\ntable: loose\nkey: [id]\nset: { v: 1 }\n"));
        c.add(spec("key", "name: bad\ntable: nonunique\nkey: [id]\nset: { v: 1 }\n"));
        c.add(spec("set.nope", BASE + "set: { nope: lower(email) }\n"));
        c.add(spec("set.score", BASE + "set: { score: lower(email) }\n"));
        c.add(spec("set.id", BASE + "set: { id: id + 1 }\n"));
        c.add(spec("set.email_lower", BASE + "set: { email_lower: lower(emial) }\n"));
        c.add(spec("set.email_lower", BASE + "set: { email_lower: \"generate_series(1, 2)::text\" }\n"));
        c.add(spec("set.email_lower", BASE + "set: { email_lower: \"max(email)\" }\n"));
        c.add(spec("set.score", BASE + "set: { score: \"row_number() over ()\" }\n"));
        c.add(spec("where", BASE + SET + "where: \"email\"\n"));
        c.add(spec("where", BASE + SET + "where: \"nope > 1\"\n"));
        c.add(spec("where", BASE + SET + "where: \"generate_series(1, 2) > 1\"\n"));
        c.add(spec("validate[0].target", BASE + SET + "validate: [ { target: nope, source: lower(email) } ]\n"));
        c.add(spec("validate[0].source", BASE + SET + "validate: [ { target: score, source: \"'x' || email\" } ]\n"));
        c.add(spec("validate[1].check", BASE + SET + "validate: [ { check: \"true\" }, { check: \"email\" } ]\n"));
        c.add(spec("into", BASE + "into: nosuch\ncolumns: { id: id }\n"));
        c.add(spec("columns.nope", BASE + "into: users_copy\ncolumns: { id: id, nope: email }\n"));
        c.add(spec("columns.email", BASE + "into: users_copy\ncolumns: { id: id, email: \"1 + 'a'\" }\n"));
        c.add(spec("transformer", BASE + "transformer: no-such-transformer\n"));
        c.add(spec("transformer", BASE + "transformer: email-hmac\n"));
        // A transformer's columns and options, checked at preflight.
        String contacts = "name: bad\ntable: contacts\nkey: [id]\n";
        String mapped = "columns: { phone: mobile, phone_e164: mobile_e164 }";
        c.add(spec("transformer", contacts + "transformer: phone-e164\n"));
        c.add(spec("transformer", contacts + "transformer: { name: phone-e164, " + mapped + " }\n"));
        c.add(spec("transformer", contacts + "transformer: { name: no-such-transformer }\n"));
        c.add(spec("transformer.name", contacts + "transformer: { " + mapped + " }\n"));
        c.add(spec("transformer.colums", contacts + "transformer: { name: phone-e164, colums: { phone: mobile } }\n"));
        c.add(spec(
                "transformer.with.region",
                contacts + "transformer: { name: phone-e164, " + mapped + ", with: { region: US } }\n"));
        c.add(spec(
                "transformer.with.default-region",
                contacts + "transformer: { name: phone-e164, " + mapped + ", with: { default-region: USA } }\n"));
        c.add(spec(
                "transformer.with.default-region",
                contacts + "transformer: { name: phone-e164, " + mapped + ", with: { default-region: ZZ } }\n"));
        c.add(spec(
                "transformer.with.default-region",
                contacts + "transformer: { name: phone-e164, " + mapped + ", with: { default-region: \"\" } }\n"));
        c.add(spec(
                "transformer.with.default-region",
                contacts + "transformer: { name: phone-e164, " + mapped + ", with: { default-region: [US] } }\n"));
        c.add(spec(
                "transformer.columns.phone",
                contacts + "transformer: { name: phone-e164, columns: { phone: tel,"
                        + " phone_e164: mobile_e164 }, with: { default-region: US } }\n"));
        c.add(spec(
                "transformer.columns.country",
                contacts + "transformer: { name: phone-e164, columns: { phone: mobile,"
                        + " phone_e164: mobile_e164, country: country_code }, with: { default-region: US } }\n"));
        c.add(spec(
                "transformer.columns.telephone",
                contacts + "transformer: { name: phone-e164, columns: { phone: mobile,"
                        + " phone_e164: mobile_e164, telephone: mobile }, with: { default-region: US } }\n"));
        c.add(spec(
                "transformer.columns.phone_e164",
                contacts + "transformer: { name: phone-e164, columns: { phone: mobile,"
                        + " phone_e164: id }, with: { default-region: US } }\n"));
        c.add(spec(
                "transformer.columns.phone_e164",
                contacts + "transformer: { name: phone-e164, columns: { phone: mobile,"
                        + " phone_e164: \"\" }, with: { default-region: US } }\n"));
        c.add(spec("transformer.with.key-env", BASE + "transformer: { name: email-hmac, with: { key-env: 1BAD } }\n"));
        c.add(spec(
                "transformer.with.key-env",
                BASE + "transformer: { name: email-hmac, with: { key-env: \"$HOME\" } }\n"));
        c.add(spec(
                "transformer.with.key-env",
                BASE + "transformer: { name: email-hmac, columns: { email_hmac: email_lower },"
                        + " with: { key-env: SLUICE_TEST_NO_SUCH_VARIABLE } }\n"));
        c.add(spec("transformer.with.salt", BASE + "transformer: { name: email-lower-dollars, with: { salt: x } }\n"));
        c.add(spec(
                "transformer.columns.amount_dollars",
                BASE + "transformer: { name: email-lower-dollars, columns:"
                        + " { amount_cents: score, amount_dollars: email_lower } }\n"));
        // More than one expression, however it is quoted.
        c.add(spec("set.email_lower", BASE + "set: { email_lower: \"lower(email); DELETE FROM users\" }\n"));
        c.add(spec("where", BASE + SET + "where: \"$$'$$ IS NOT NULL) ; DELETE FROM users; SELECT ($$'$$ IS NULL\"\n"));
        c.add(spec(
                "where",
                BASE + SET + "where: \"$q$'$q$ IS NOT NULL) ; COMMIT; DROP TABLE victim; SELECT ($q$'$q$ IS NULL\"\n"));
        c.add(spec("where", BASE + SET + "where: \"E'\\\\'' IS NOT NULL) ; DELETE FROM users; SELECT ('' IS NULL\"\n"));
        c.add(spec("where", BASE + SET + "where: \"true) OR (true\"\n"));
        c.add(spec("where", BASE + SET + "where: \"E'a''b\\\\' ' IS NOT NULL) OR (true E'\\\\' ' IS NULL\"\n"));
        c.add(spec("set.email_lower", BASE + "set: { email_lower: \"lower(email) -- the rest of the statement\" }\n"));
        c.add(spec("where", BASE + SET + "where: \"true /* ) ; DELETE FROM users\"\n"));
        c.add(spec(
                "validate[0].check",
                BASE + SET + "validate: [ { check: \"true) ; DROP TABLE victim; SELECT (1\" } ]\n"));
        c.add(spec(
                "columns.email",
                BASE + "into: users_copy\ncolumns: { id: id, email: \"email) ; DELETE FROM users; SELECT (1\" }\n"));
        c.add(spec("set.data", BASE + "set: { data: \"data - 'k' ; DELETE FROM users\" }\n"));
        // One expression with standard_conforming_strings on, two with it off (which set_config can turn it to).
        c.add(spec(
                "where",
                BASE + SET + "where: \"set_config('standard_conforming_strings','off',false) IS NOT NULL"
                        + " AND email <> '\\\\'' ) ; DELETE FROM victim --'\"\n"));
        c.add(spec(
                "validate[0].check",
                BASE + SET + "validate: [ { check: \"email <> '\\\\'' ) ; DELETE FROM victim --'\" } ]\n"));
        c.add(spec("where", BASE + SET + "where: \"email <> 'x'\\u0000\"\n"));
        // Command lines.
        c.add(line("JOB", "run"));
        c.add(line("--bogus", "run", "good", "--bogus"));
        c.add(line("--metrics-port", "run", "good", "--metrics-port", "abc"));
        // The contract's steps: each kind's fields, and what the catalog decides (PostgreSQL, on a copy of the table).
        c.add(spec("contract[0]", BASE + SET + "contract: [ {} ]\n"));
        c.add(spec("contract[0]", BASE + SET + "contract:\n  - { not-null: email_lower, drop-columns: [score] }\n"));
        c.add(spec("contract[0].not-null", BASE + SET + "contract:\n  - not-null: nope\n"));
        c.add(spec("contract[0].not-null", BASE + SET + "contract:\n  - not-null: \"\"\n"));
        c.add(spec("contract[0].index", BASE + SET + "contract:\n  - index: { name: i1 }\n"));
        c.add(spec("contract[0].index.name", BASE + SET + "contract:\n  - index: { columns: [email_lower] }\n"));
        c.add(spec(
                "contract[0].index.name",
                BASE + SET + "contract:\n  - index: { name: users_pkey, columns: [email_lower] }\n"));
        c.add(spec("contract[0].index", BASE + SET + "contract:\n  - index: { name: i1, expression: \"random()\" }\n"));
        c.add(spec("contract[0].index", BASE + SET + "contract:\n  - index: { name: i1, columns: [nope] }\n"));
        c.add(spec(
                "contract[0].index",
                BASE + SET + "contract:\n  - index: { name: i1, columns: [email_lower], include: [nope] }\n"));
        c.add(
                spec(
                        "contract[0].index.expression",
                        BASE + SET
                                + "contract:\n  - index: { name: i1, expression: \"lower(email)); DROP TABLE victim; --\" }\n"));
        c.add(spec(
                "contract[0].index.where",
                BASE + SET + "contract:\n  - index: { name: i1, columns: [email], where: \"true) OR (1 = 1\" }\n"));
        c.add(spec(
                "contract[0].index",
                BASE + SET + "contract:\n  - index: { name: i1, columns: [email], where: \"score\" }\n"));
        c.add(spec(
                "contract[0].index.unique",
                BASE + SET + "contract:\n  - index: { name: i1, columns: [email], unique: maybe }\n"));
        c.add(spec("contract[0].check.expression", BASE + SET + "contract:\n  - check: { name: c1 }\n"));
        c.add(spec("contract[0].check", BASE + SET + "contract:\n  - check: { name: c1, expression: \"score\" }\n"));
        c.add(spec(
                "contract[0].check",
                BASE + SET + "contract:\n  - check: { name: c1, expression: \"score > (SELECT 1)\" }\n"));
        c.add(spec(
                "contract[0].check.expression",
                BASE + SET + "contract:\n  - check: { name: c1, expression: \"true; DELETE FROM users\" }\n"));
        c.add(
                spec(
                        "contract[0].check.name",
                        BASE + SET
                                + "contract:\n  - check: { name: cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc, expression: \"score > 0\" }\n"));
        c.add(
                spec(
                        "contract[1].check.name",
                        BASE + SET
                                + "contract:\n  - check: { name: c1, expression: \"score > 0\" }\n  - check: { name: c1, expression: \"score < 9\" }\n"));
        c.add(spec(
                "contract[0].foreign-key.references",
                BASE + SET + "contract:\n  - foreign-key: { name: f1, columns: [score], references: users }\n"));
        c.add(spec(
                "contract[0].foreign-key.references",
                BASE + SET
                        + "contract:\n  - foreign-key: { name: f1, columns: [score], references: \"nowhere(id)\" }\n"));
        c.add(
                spec(
                        "contract[0].foreign-key",
                        BASE + SET
                                + "contract:\n  - foreign-key: { name: f1, columns: [score], references: \"users(email)\" }\n"));
        c.add(spec(
                "contract[0].foreign-key",
                BASE + SET
                        + "contract:\n  - foreign-key: { name: f1, columns: [email], references: \"users(id)\" }\n"));
        c.add(
                spec(
                        "contract[0].foreign-key.references",
                        BASE + SET
                                + "contract:\n  - foreign-key: { name: f1, columns: [score], references: \"users(id, email)\" }\n"));
        c.add(
                spec(
                        "contract[0].foreign-key.on-delete",
                        BASE + SET
                                + "contract:\n  - foreign-key: { name: f1, columns: [score], references: \"users(id)\", on-delete: sometimes }\n"));
        c.add(spec(
                "contract[0].foreign-key.columns",
                BASE + SET + "contract:\n  - foreign-key: { name: f1, references: \"users(id)\" }\n"));
        c.add(spec("contract[0].drop-columns", BASE + SET + "contract:\n  - drop-columns: [id]\n"));
        c.add(spec("contract[0].drop-columns", BASE + SET + "contract:\n  - drop-columns: [nope]\n"));
        c.add(spec("contract[0].drop-columns", BASE + SET + "contract:\n  - drop-columns: []\n"));
        c.add(spec(
                "contract[0].rename-column",
                BASE + SET + "contract:\n  - rename-column: { from: score, to: email }\n"));
        c.add(spec(
                "contract[0].rename-column.to",
                BASE + SET + "contract:\n  - rename-column: { from: score, to: score }\n"));
        c.add(spec("contract[0].rename-column.from", BASE + SET + "contract:\n  - rename-column: { to: points }\n"));
        c.add(
                spec(
                        "contract[1].index",
                        BASE + SET
                                + "contract:\n  - rename-column: { from: score, to: points }\n  - index: { name: i2, columns: [score] }\n"));
        c.add(spec("contract[1].not-null", BASE + SET + "contract:\n  - drop-columns: [score]\n  - not-null: score\n"));
        c.add(spec("contract[0].nope", BASE + SET + "contract:\n  - nope: email\n"));
        c.add(spec("after[0]", BASE + SET + "after: [\"Not A Job\"]\n"));
        c.add(spec("after[0]", BASE + SET + "after: [bad]\n"));
        c.add(spec("after[1]", BASE + SET + "after: [one, one]\n"));
        c.add(line("--schema", "run", "good", "--schema", "Bad-Schema"));
        c.add(line("--schema", "status", "--schema", "x;drop"));
        c.add(line("--jdbc-url", "run", "good", "--jdbc-url", "postgres://localhost/db"));
        c.add(line("--jdbc-url", "run", "good", "--jdbc-url", "jdbc:postgresql://postgres:pw@localhost/db"));
        c.add(line("--jdbc-url", "run", "good", "--jdbc-url", "jdbc:postgresql://localhost:notaport/db"));
        c.add(line("tune", "tune", "good"));
        c.add(line("--rows-per-second", "tune", "good", "--rows-per-second", "-1"));
        c.add(line("--chunk-target", "tune", "good", "--chunk-target", "0ms"));
        c.add(line("--chunk-target", "tune", "good", "--chunk-target", "5x"));
        c.add(line("--chunk-target", "tune", "good", "--chunk-target", "30d"));
        c.add(line("--rows-per-second", "tune", "good", "--rows-per-second", "99999999999999999999"));
        c.add(line("--wait", "pause", "good", "--wait", "99999999999999999999s"));
        c.add(line("--wait", "pause", "good", "--wait", "later"));
        c.add(line("--rows-per-second", "validate", "good", "--rows-per-second", "-3"));
        c.add(line("JOB", "status", "no-such-job"));
        c.add(line("JOB", "run", "no-such-job"));
        c.add(line("JOB", "resume", "no-such-job"));
        c.add(line("JOB", "run", "missing.yml"));
        c.add(line("JOB", "pause", "no-such-job"));
        c.add(line("--rows", "demo", "--rows", "0"));
        c.add(line("--plant", "demo", "--plant", "-1"));
        c.add(line("--metrics-port", "run", "good", "--metrics-port", "-1"));
        c.add(line("--push-gateway", "run", "good", "--push-gateway", "ftp://gateway:9091"));
        c.add(line("--push-gateway", "run", "good", "--push-gateway", "http://ops:pw@gateway:9091"));
        c.add(line("--push-gateway", "run", "good", "--push-gateway", "http://gateway:9091/metrics/job/x"));
        c.add(line("--push-gateway", "resume", "good", "--push-gateway", "http://gate way"));
        c.add(line("--push-gateway", "run", "good", "--push-gateway", "http://127.0.0.1:99999"));
        c.add(line("--push-gateway", "run", "good", "--push-gateway", "gateway:0"));
        c.add(line("--push-gateway", "run", "good", "--push-gateway", "http://gateway:99999999999"));
        c.add(line("--metrics-port", "run", "good", "--metrics-port", "99999"));
        c.add(line("--port", "serve", "--port", "70000"));
        c.add(line("--port", "serve", "--port", "-5"));
        c.add(line("--only", "bench", "--only", "nosuch"));
        c.add(line("--rounds", "bench", "--rounds", "0"));
        c.add(line("--postgres-version", "bench", "--postgres-version", "13"));
        c.add(line("--postgres-version", "bench", "--postgres-version", "19"));
        c.add(line("--postgres-version", "bench", "--postgres-version", "12.22.0"));
        c.add(line("--postgres-version", "bench", "--postgres-version", "16.x"));
        c.add(line("--postgres-version", "bench", "--postgres-version", "../../etc"));
        c.add(line(
                "--jdbc-url", "bench", "--jdbc-url", "jdbc:postgresql://localhost/x", "--postgres-version", "14.20.0"));
        c.add(line("--jdbc-url", "bench", "--jdbc-url", "jdbc:postgresql://localhost/x", "--load"));
        c.add(line("--jdbc-url", "bench", "--jdbc-url", "jdbc:postgresql://localhost/x?password=pw"));
        c.add(line("--key", "bench", "--key", "serial"));
        c.add(line("--key", "bench", "--key", "text", "--scale"));
        c.add(line("--key", "bench", "--key", "uuid", "--only", "offset"));
        c.add(line("--fixed-chunks", "bench", "--fixed-chunks", "--load"));
        // One way of running at a time, and only the options it reads: nothing ignored without a word.
        c.add(line("--jdbc-url", "bench", "--jdbc-url", "jdbc:postgresql://localhost:5432/"));
        c.add(line("--jdbc-url", "bench", "--jdbc-url", "jdbc:postgresql://localhost/?user=postgres"));
        c.add(line("--scale", "bench", "--load", "--scale"));
        c.add(line("--scale-out", "bench", "--scale", "--scale-out"));
        c.add(line("--only", "bench", "--scale", "--only", "plpgsql"));
        c.add(line("--only", "bench", "--load", "--only", "sluice-sql"));
        c.add(line("--scale-rows", "bench", "--scale-rows", "100000,200000"));
        c.add(line("--load-rate", "bench", "--scale", "--load-rate", "5000"));
        c.add(line("--hmac-rounds", "bench", "--load", "--hmac-rounds", "5"));
        c.add(line("--load-parallel", "bench", "--scale", "--load-parallel", "3"));
        c.add(line("--rows", "bench", "--scale-out", "--rows", "1000"));
        c.add(line("--rounds", "bench", "--scale-out", "--rounds", "2"));
        c.add(line("--scale-rows", "bench", "--scale", "--scale-rows", "10000,20000"));
        c.add(line("--scale-rows", "bench", "--scale", "--scale-rows", "100000,100000"));
        c.add(spec("workers", BASE + SET + "workers: everywhere\n"));
        c.add(spec("workers", BASE + SET + "workers: 2\n"));
        c.add(line("--workers", "run", "good", "--workers", "cloud"));
        c.add(line("--threads", "worker", "--threads", "0"));
        // Fleet files (FLEETS below), each refused naming its field, whatever the command.
        c.add(line("targets[1].jdbc-url", "run", "good", "--fleet", "password"));
        c.add(line("targets[0].name", "status", "good", "--fleet", "badname"));
        c.add(line("targets[1].name", "pause", "good", "--fleet", "twice"));
        c.add(line("rollout.waves[1]", "require", "good", "--fleet", "shrinking"));
        c.add(line("rollout.waves[0]", "finish", "good", "--fleet", "notashare"));
        c.add(line("concurrency", "rollback", "good", "--fleet", "crowd"));
        c.add(line("targets", "validate", "good", "--fleet", "empty"));
        c.add(line("rollout.pauze", "resume", "good", "--fleet", "typo"));
        c.add(line("targets[1].name", "status", "good", "--fleet", "samevariable"));
        c.add(line("--fleet", "run", "good", "--fleet", "nosuchfleet"));
        c.add(line("--fleet", "run", "good", "--fleet", "fine"));
        c.add(line("--threads", "worker", "--threads", "33"));
        c.add(line("--config", "run", "good", "--config", "/nonexistent-sluice-config"));
        c.add(line("--user", "run", "good", "--user", ""));
        // Operators' integrations: the SLO gates, notifications, job records.
        c.add(spec(
                "health.prometheus.url",
                BASE + SET + "health: { prometheus: { url: \"prometheus:9090\", query: up } }\n"));
        c.add(spec(
                "health.prometheus.url",
                BASE + SET + "health: { prometheus: { url: \"http://ops:pw@prom:9090\", query: up } }\n"));
        c.add(spec("health.prometheus.query", BASE + SET + "health: { prometheus: { url: \"http://prom:9090\" } }\n"));
        c.add(spec(
                "health.prometheus.max",
                BASE + SET + "health: { prometheus: { url: \"http://p\", query: up, max: x } }\n"));
        c.add(spec("health.http.url", BASE + SET + "health: { http: { url: \"ftp://app/throttle\" } }\n"));
        c.add(spec("notify[0].on[0]", BASE + SET + "notify: [ { webhook: \"http://h/x\", on: [done] } ]\n"));
        c.add(spec("notify[0].webhook", BASE + SET + "notify: [ { webhook: \"http://u:pw@h/x\", on: [failed] } ]\n"));
        c.add(spec("notify[0].webhook", BASE + SET + "notify: [ { on: [failed] } ]\n"));
        c.add(spec("notify[0].on", BASE + SET + "notify: [ { webhook: \"http://h/x\" } ]\n"));
        c.add(
                spec(
                        "notify[0].header.env",
                        BASE + SET
                                + "notify: [ { webhook: \"http://h/x\", on: [failed], header: { name: X-T, env: \"a b\" } } ]\n"));
        c.add(
                spec(
                        "notify[1].held-for",
                        BASE + SET
                                + "notify: [ { webhook: \"http://h/x\", on: [failed] }, { webhook-env: HOOK, on: [held], held-for: soon } ]\n"));
        c.add(line("JOB", "history", "nobody"));
        c.add(line("JOB", "forget", "nobody"));
        c.add(line("JOB", "history"));
        c.add(line("--jsn", "list", "--jsn"));
        return c.stream();
    }

    @ParameterizedTest(name = "{0}: {1}{2}")
    @MethodSource("cases")
    void isRefusedInOneLineNamingTheFieldAndWritesNothing(String field, String yaml, String[] args) throws Exception {
        Files.writeString(dir.resolve("jobs/good.yml"), BASE.replace("bad", "good") + SET);
        Files.createDirectories(dir.resolve("fleets"));
        for (var fleet : FLEETS.entrySet()) {
            Files.writeString(dir.resolve("fleets/" + fleet.getKey() + ".yml"), fleet.getValue());
        }
        List<String[]> commands = new ArrayList<>();
        if (yaml != null) {
            Path file = dir.resolve("case-" + files.incrementAndGet() + ".yml");
            Files.writeString(file, yaml);
            // Every command that reads a spec checks all of it.
            commands.add(new String[] {"run", file.toString()});
            commands.add(new String[] {"plan", file.toString()});
            commands.add(new String[] {"validate", file.toString()});
            commands.add(new String[] {"run", file.toString(), "--dry-run"});
        } else {
            commands.add(args);
        }
        for (String[] command : commands) {
            String[] full = command[0].equals("demo") || command[0].equals("bench")
                    ? command
                    : Cli.against(dir, ds.getJdbcUrl(), command);
            Cli.Result r = Cli.run(full);
            String shown = String.join(" ", command);
            assertThat(r.exitCode())
                    .as("%s\nout: %s\nerr: %s", shown, r.out(), r.err())
                    .isEqualTo(2);
            List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
            assertThat(lines).as("%s: stderr", shown).hasSize(1);
            assertThat(lines.get(0)).as(shown).startsWith("sluice: ").contains(field);
            if (yaml != null) {
                assertThat(lines.get(0)).as(shown).startsWith("sluice: " + field + ": ");
            }
            assertThat(lines.get(0)).as(shown).doesNotContain("pw@").doesNotContain("password=pw");
        }
        assertThat(db.exists("sluice.batch_job_instance")).as("no job record").isFalse();
        assertThat(checksums()).as("the tables are unchanged").isEqualTo(checksum);
        assertThat(db.exists("victim")).isTrue();
    }
}
