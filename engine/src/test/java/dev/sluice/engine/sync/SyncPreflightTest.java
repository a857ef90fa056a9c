package dev.sluice.engine.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import java.util.stream.Stream;

import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.preflight.Prepared;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.DatabaseTest;
import dev.sluice.engine.testing.Preflights;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Preflight of {@code sync: trigger}: the specs a trigger cannot keep right are refused naming the field (decided by
 * PostgreSQL from what each expression reads and whether it is immutable), the others get their trigger; and
 * nothing is written by a refusal, not even the temporary objects of the probe.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SyncPreflightTest extends DatabaseTest {

    @BeforeAll
    void tables() {
        db.exec(
                "CREATE TABLE users (id int PRIMARY KEY, email text, email_lower text, n int NOT NULL DEFAULT 0,"
                        + " created timestamptz DEFAULT now(), doubled int GENERATED ALWAYS AS (n * 2) STORED,"
                        + " country text, label text, profile json)",
                "CREATE TABLE countries (code text PRIMARY KEY, name text)",
                "CREATE TABLE users_v2 (id int PRIMARY KEY, email text, stamped timestamptz)",
                "CREATE FUNCTION stable_lower(t text) RETURNS text STABLE LANGUAGE plpgsql AS 'BEGIN RETURN lower(t); END'",
                "INSERT INTO users (id, email) SELECT g, 'U' || g FROM generate_series(1, 100) g");
    }

    private Prepared plan(String body) throws SQLException {
        return Preflights.prepare(ds, SpecParser.parse("name: s\ntable: users\nkey: [id]\nsync: trigger\n" + body));
    }

    static Stream<Arguments> refused() {
        return Stream.of(
                Arguments.of("set: { n: n + 1 }", "set.n", "reads n, which the job writes"),
                Arguments.of(
                        "set: { email_lower: \"lower(email_lower || email)\" }",
                        "set.email_lower",
                        "reads email_lower"),
                Arguments.of("set: { created: now() }", "set.created", "IMMUTABLE"),
                Arguments.of("set: { created: clock_timestamp() }", "set.created", "IMMUTABLE"),
                Arguments.of("set: { label: random()::text }", "set.label", "IMMUTABLE"),
                Arguments.of("set: { label: stable_lower(email) }", "set.label", "IMMUTABLE"),
                Arguments.of("set: { label: \"to_char(created, 'YYYY')\" }", "set.label", "IMMUTABLE"),
                Arguments.of(
                        "set: { label: \"(SELECT c.name FROM countries c WHERE c.code = users.country)\" }",
                        "set.label",
                        "read only the row's own columns"),
                Arguments.of(
                        "set: { label: row_to_json(users)::text }", "set.label", "read only the row's own columns"),
                Arguments.of("set: { label: doubled::text }", "set.label", "generated column doubled"),
                Arguments.of(
                        "set: { email_lower: lower(email) }\nwhere: \"email_lower IS NULL\"",
                        "where",
                        "reads email_lower, which the job writes"),
                Arguments.of(
                        "set: { email_lower: lower(email) }\nwhere: \"created > now() - interval '1 day'\"",
                        "where",
                        "IMMUTABLE"),
                Arguments.of(
                        "into: users_v2\ncolumns: { id: id, email: lower(email), stamped: now() }",
                        "columns.stamped",
                        "IMMUTABLE"),
                Arguments.of(
                        "into: users_v2\ncolumns: { id: id, email: \"(SELECT name FROM countries LIMIT 1)\" }",
                        "columns.email",
                        "read only the row's own columns"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refused")
    void refusesWhatATriggerCannotKeepRight(String body, String field, String why) {
        assertThatThrownBy(() -> plan(body))
                .isInstanceOf(SpecException.class)
                .satisfies(e -> assertThat(((SpecException) e).field()).isEqualTo(field))
                .hasMessageContaining(why);
        assertThat(db.count("SELECT count(*) FROM pg_class WHERE relname LIKE 'sluice_probe%'"))
                .isZero();
        assertThat(db.count("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'users'::regclass"))
                .isZero();
    }

    @Test
    void acceptsImmutableExpressionsOfTheRowAndWatchesWhatTheyRead() throws SQLException {
        Prepared p = plan(
                "set: { email_lower: \"lower(users.email)\", label: \"coalesce(country, '?') || profile::text\" }\n"
                        + "where: \"id > 0\"");
        SyncDefinition sync = p.sync();
        assertThat(sync.kind()).isEqualTo(SyncDefinition.Kind.COMPUTE);
        // The key, and every column an expression or the filter reads, in table order; not the written columns.
        assertThat(sync.watched()).containsExactly("id", "email", "country", "profile");
        assertThat(String.join("\n", sync.install()))
                .contains("BEFORE INSERT ON public.users")
                .contains("BEFORE UPDATE ON public.users FOR EACH ROW WHEN (ROW(OLD.\"id\", OLD.\"email\","
                        + " OLD.\"country\", OLD.\"profile\")::record *<> ROW(NEW.\"id\", NEW.\"email\", NEW.\"country\","
                        + " NEW.\"profile\")::record)")
                .contains("SET search_path = public, pg_temp");
        assertThat(p.findings())
                .anyMatch(f -> f.check().equals("sync cost") && f.detail().contains("evaluates 2 expression"));
        assertThat(db.count("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'users'::regclass"))
                .isZero();
    }

    /** A sync job named {@code name} on {@code table}, writing {@code set}. */
    private static JobSpec job(String name, String table, String set) {
        return SpecParser.parse(
                "name: " + name + "\ntable: " + table + "\nkey: [id]\nsync: trigger\nset: " + set + "\n");
    }

    /** Runs {@code first} to completion, then plans {@code second}: refused, with {@code message}. */
    private void refusedBeside(JobSpec first, JobSpec second, String message) throws SQLException {
        assertThat(backfill.run(first, RunOptions.defaults()).outcome()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThatThrownBy(() -> backfill.plan(second))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining(message);
    }

    @Test
    void anotherJobsTriggerOnTheSameColumnsIsRefused() throws SQLException {
        db.exec(
                "CREATE TABLE shared (id int PRIMARY KEY, a text, a_up text, b_up text)",
                "INSERT INTO shared SELECT g, 'a' || g FROM generate_series(1, 10) g");
        refusedBeside(
                job("first", "shared", "{ a_up: upper(a) }"),
                job("second", "shared", "{ a_up: lower(a) }"),
                "sync: public.shared already has the sync trigger of job first on a_up");
        // Other columns of the same table are another matter.
        assertThat(Preflights.prepare(ds, job("third", "shared", "{ b_up: lower(a) }"))
                        .sync())
                .isNotNull();
    }

    @Test
    void aJobThatWritesWhatAnotherJobsTriggerReadsIsRefused() throws SQLException {
        db.exec(
                "CREATE TABLE chained (id int PRIMARY KEY, email text, nick text, label text)",
                "INSERT INTO chained SELECT g, 'E' || g FROM generate_series(1, 10) g");
        // Its trigger fires before this one's (by name) and would compute label from the nick this one replaces.
        refusedBeside(
                job("labels", "chained", "{ label: upper(nick) }"),
                job("nicks", "chained", "{ nick: lower(email) }"),
                "sync: the in-place sync trigger of job labels reads nick, which this job writes");
    }
}
