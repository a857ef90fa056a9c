package dev.sluice.engine.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.Finding;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.Plan;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.spi.Transformer;
import dev.sluice.engine.testing.DatabaseTest;
import dev.sluice.engine.testing.LowerEmail;
import dev.sluice.engine.testing.Preflights;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code sync: trigger} beside the application's own BEFORE triggers, real ones on a real server: a trigger that
 * rewrites what the job reads or writes, on the application's writes and on the chunks' own, leaves every row in
 * step; one that Sluice cannot keep right is refused before anything is written, naming it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApplicationTriggersTest extends DatabaseTest {

    private static final AtomicInteger TABLES = new AtomicInteger();

    @BeforeAll
    void functions() {
        db.exec(
                "CREATE EXTENSION moddatetime",
                // Rewrites what the job reads: trims the email, and appends the status when an update changes it.
                "CREATE FUNCTION tidy() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                        + " NEW.email := trim(NEW.email);"
                        + " IF TG_OP = 'UPDATE' AND NEW.status IS DISTINCT FROM OLD.status THEN"
                        + "   NEW.email := NEW.email || '+' || NEW.status; END IF;"
                        + " RETURN NEW; END $$",
                // Overwrites what the job writes.
                "CREATE FUNCTION clobber() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                        + " NEW.email_lower := 'clobbered'; RETURN NEW; END $$",
                // Changes only a column the job neither reads nor writes; Sluice cannot see that in PL/pgSQL.
                "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                        + " NEW.note := 'touched'; RETURN NEW; END $$",
                "CREATE FUNCTION nothing() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$");
    }

    /** A table of 2,000 rows whose emails carry spaces and capitals, with triggers made by {@code triggers}. */
    private String table(String... triggers) {
        String t = "t" + TABLES.incrementAndGet();
        db.exec(
                "CREATE TABLE " + t + " (id int PRIMARY KEY, email text NOT NULL, email_lower text,"
                        + " status text NOT NULL DEFAULT 'new', note text, touched timestamptz, tsv tsvector)",
                "INSERT INTO " + t
                        + " (id, email) SELECT g, '  User' || g || '@X.org ' FROM generate_series(1, 2000) g");
        for (String trigger : triggers) {
            db.exec(trigger.replace("$T", t));
        }
        db.exec("ANALYZE " + t);
        return t;
    }

    private static JobSpec inPlace(String table, String sync) {
        return SpecParser.parse("name: j-" + table + "\ntable: " + table + "\nkey: [id]\nsync: " + sync + "\n"
                + "set: { email_lower: lower(email) }\nchunk: { rows: 300, min-rows: 300, max-rows: 300 }\n"
                + "validate: [ { target: email_lower, source: lower(email) } ]\n");
    }

    /** Inserts, updates of a column the job does not read, and updates of one it reads. */
    private void applicationWrites(String table) {
        db.exec(
                "INSERT INTO " + table
                        + " (id, email) SELECT g, ' New' || g || '@X.org ' FROM generate_series(5001, 5100) g",
                "UPDATE " + table + " SET status = 'vip' WHERE id % 10 = 0",
                "UPDATE " + table + " SET email = ' Changed' || id || '@X.org' WHERE id % 7 = 0",
                "UPDATE " + table + " SET note = 'n' WHERE id % 3 = 0");
    }

    private long outOfStep(String table) {
        return db.count("SELECT count(*) FROM " + table + " WHERE email_lower IS DISTINCT FROM lower(email)");
    }

    /** {@code plan} warns about the table's triggers, in words that include every one of {@code words}. */
    private void planWarns(JobSpec spec, String... words) throws SQLException {
        Plan plan = new Backfill(ds).plan(spec);
        assertThat(plan.findings())
                .anyMatch(f -> f.level() == Finding.Level.WARN
                        && f.check().equals("triggers")
                        && Stream.of(words).allMatch(f.detail()::contains));
    }

    private void runsInStep(Backfill backfill, JobSpec spec, String table) throws SQLException {
        RunResult run = backfill.run(spec, RunOptions.defaults());
        assertThat(run.outcome()).as(run.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(outOfStep(table)).as("rows out of step after the run").isZero();
        applicationWrites(table);
        assertThat(outOfStep(table))
                .as("rows out of step after the application's writes")
                .isZero();
    }

    @Test
    void aTriggerBeforeSluicesThatRewritesWhatTheJobReadsLeavesEveryRowInStep() throws SQLException {
        String t =
                table("CREATE TRIGGER tidy_email BEFORE INSERT OR UPDATE ON $T FOR EACH ROW EXECUTE FUNCTION tidy()");
        runsInStep(new Backfill(ds), inPlace(t, "trigger"), t);
        assertThat(db.count("SELECT count(*) FROM " + t + " WHERE email LIKE '%+vip'"))
                .as("the trigger did its work")
                .isPositive();
    }

    @Test
    void aTriggerThatOverwritesTheTargetIsFollowedBySluicesOnTheChunksWritesToo() throws SQLException {
        String t = table("CREATE TRIGGER audit BEFORE INSERT OR UPDATE ON $T FOR EACH ROW EXECUTE FUNCTION clobber()");
        planWarns(inPlace(t, "trigger"), "audit", "computed twice");
        runsInStep(new Backfill(ds), inPlace(t, "trigger"), t);
    }

    @Test
    void triggersThatCannotChangeWhatTheJobReadsOrWritesAreNotRefused() throws SQLException {
        String t = table(
                // Before Sluice's: whatever they do, Sluice's computes after them.
                "CREATE TRIGGER note_it BEFORE INSERT OR UPDATE ON $T FOR EACH ROW EXECUTE FUNCTION touch()",
                // After Sluice's, but known to change only columns the job does not use.
                "CREATE TRIGGER \"~zz_stamp\" BEFORE UPDATE ON $T FOR EACH ROW EXECUTE FUNCTION moddatetime(touched)",
                "CREATE TRIGGER \"~zz_search\" BEFORE INSERT OR UPDATE ON $T FOR EACH ROW"
                        + " EXECUTE FUNCTION tsvector_update_trigger(tsv, 'pg_catalog.simple', status)",
                "CREATE TRIGGER \"~zz_same\" BEFORE UPDATE ON $T FOR EACH ROW"
                        + " EXECUTE FUNCTION suppress_redundant_updates_trigger()",
                // After Sluice's and unknown, but a statement's trigger (no row to change), or disabled.
                "CREATE TRIGGER \"~zz_statement\" BEFORE UPDATE ON $T EXECUTE FUNCTION nothing()",
                "CREATE TRIGGER \"~zz_disabled\" BEFORE INSERT OR UPDATE ON $T FOR EACH ROW EXECUTE FUNCTION tidy()",
                "ALTER TABLE $T DISABLE TRIGGER \"~zz_disabled\"");
        planWarns(inPlace(t, "trigger"), "~zz_disabled", "does not fire now");
        runsInStep(new Backfill(ds), inPlace(t, "trigger"), t);
        assertThat(db.count("SELECT count(*) FROM " + t + " WHERE note = 'touched' AND tsv IS NOT NULL"))
                .isPositive();
    }

    static Stream<Arguments> refused() {
        return Stream.of(
                Arguments.of(
                        "after Sluice's, on insert and update",
                        "CREATE TRIGGER \"~zz_late\" BEFORE INSERT OR UPDATE ON $T FOR EACH ROW EXECUTE FUNCTION tidy()",
                        "~zz_late",
                        "cannot know which columns a plpgsql function changes"),
                Arguments.of(
                        "after Sluice's, on update only",
                        "CREATE TRIGGER \"~zz_late\" BEFORE UPDATE OF status ON $T FOR EACH ROW EXECUTE FUNCTION clobber()",
                        "~zz_late",
                        "fires after Sluice's"),
                Arguments.of(
                        "after Sluice's, on insert only",
                        "CREATE TRIGGER \"~zz_late\" BEFORE INSERT ON $T FOR EACH ROW EXECUTE FUNCTION touch()",
                        "~zz_late",
                        "plpgsql"),
                Arguments.of(
                        "after Sluice's, known to change a column the job reads",
                        "CREATE TRIGGER \"~zz_stamp\" BEFORE UPDATE ON $T FOR EACH ROW EXECUTE FUNCTION moddatetime(email)",
                        "~zz_stamp",
                        "changes email, which the job reads or writes"),
                Arguments.of(
                        "after Sluice's, firing always (even for replication)",
                        "CREATE TRIGGER \"~zz_late\" BEFORE INSERT ON $T FOR EACH ROW EXECUTE FUNCTION tidy();"
                                + " ALTER TABLE $T ENABLE ALWAYS TRIGGER \"~zz_late\"",
                        "~zz_late",
                        "fires after Sluice's"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refused")
    void aTriggerSluiceCannotKeepRightIsRefusedByEveryCommandBeforeAnythingIsWritten(
            String why, String trigger, String name, String says) throws SQLException {
        String t = table(trigger);
        JobSpec spec = inPlace(t, "trigger");
        for (ThrowingCall call : List.<ThrowingCall>of(
                () -> backfill.plan(spec),
                () -> backfill.run(spec, RunOptions.defaults()),
                () -> backfill.run(spec, RunOptions.defaults().resumeOnly(true)),
                () -> backfill.validate(spec, RunOptions.defaults()))) {
            assertThatThrownBy(call::call)
                    .isInstanceOf(SpecException.class)
                    .satisfies(e -> assertThat(((SpecException) e).field()).isEqualTo("sync"))
                    .hasMessageContaining("trigger " + name)
                    .hasMessageContaining(says);
        }
        assertThat(db.count("SELECT count(*) FROM pg_trigger WHERE tgrelid = '" + t
                        + "'::regclass AND tgname LIKE '%sluice%'"))
                .isZero();
        assertThat(db.count("SELECT count(*) FROM " + t + " WHERE email_lower IS NOT NULL"))
                .isZero();
        assertThat(backfill.status(spec.name()).state()).isEqualTo(JobStatus.State.NOT_STARTED);
    }

    @Test
    void aTriggerOnAPartitionThatFiresAfterSluicesIsRefusedNamingThePartition() {
        db.exec(
                "CREATE TABLE parted (id int PRIMARY KEY, email text NOT NULL, email_lower text) PARTITION BY RANGE (id)",
                "CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (MINVALUE) TO (1000)",
                "CREATE TABLE parted_2 PARTITION OF parted FOR VALUES FROM (1000) TO (MAXVALUE)",
                "INSERT INTO parted SELECT g, 'U' || g FROM generate_series(1, 2000) g",
                "CREATE TRIGGER \"~zz_late\" BEFORE INSERT ON parted_2 FOR EACH ROW EXECUTE FUNCTION clobber()");
        assertThatThrownBy(() -> new Backfill(ds).plan(inPlace("parted", "trigger")))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("trigger ~zz_late on parted_2");
    }

    @Test
    void withoutSyncATriggerThatFiresOnTheChunksWritesIsAWarning() throws SQLException {
        String t =
                table("CREATE TRIGGER tidy_email BEFORE INSERT OR UPDATE ON $T FOR EACH ROW EXECUTE FUNCTION tidy()");
        planWarns(inPlace(t, "none"), "tidy_email", "fires on each chunk's own write");
    }

    @Test
    void sluicesTriggersOfAnEarlierVersionAreReplacedByOnesThatFireLast() throws SQLException {
        String t =
                table("CREATE TRIGGER tidy_email BEFORE INSERT OR UPDATE ON $T FOR EACH ROW EXECUTE FUNCTION tidy()");
        JobSpec spec = inPlace(t, "trigger");
        assertThat(backfill.run(spec, RunOptions.defaults()).outcome()).isEqualTo(RunResult.Outcome.COMPLETED);
        // As an earlier Sluice installed them: named to fire in the middle, and recorded so.
        String job = spec.name();
        db.exec(
                "ALTER TRIGGER \"~sluice_" + job + "_ins\" ON " + t + " RENAME TO \"sluice_" + job + "_ins\"",
                "ALTER TRIGGER \"~sluice_" + job + "_upd\" ON " + t + " RENAME TO \"sluice_" + job + "_upd\"",
                "UPDATE sluice.sync_triggers SET triggers = ARRAY['sluice_" + job + "_ins', 'sluice_" + job + "_upd'],"
                        + " digest = 'earlier' WHERE job = '" + job + "'");
        assertThat(backfill.run(spec, RunOptions.defaults()).outcome()).isEqualTo(RunResult.Outcome.ALREADY_COMPLETE);
        assertThat(db.column("SELECT tgname FROM pg_trigger WHERE tgrelid = '" + t + "'::regclass ORDER BY tgname"))
                .containsExactly("tidy_email", "~sluice_" + job + "_ins", "~sluice_" + job + "_upd");
        applicationWrites(t);
        assertThat(outOfStep(t)).isZero();
    }

    @Test
    void longJobNamesGetTriggerNamesThatPostgreSQLKeepsWhole() throws SQLException {
        for (String name : List.of("a".repeat(51), "b".repeat(52), "c".repeat(63))) {
            String t = table();
            JobSpec spec = SpecParser.parse("name: " + name + "\ntable: " + t + "\nkey: [id]\nsync: trigger\n"
                    + "set: { email_lower: lower(email) }\n");
            assertThat(backfill.run(spec, RunOptions.defaults()).outcome()).isEqualTo(RunResult.Outcome.COMPLETED);
            List<String> names = Preflights.prepare(ds, spec).sync().triggers();
            assertThat(names).allMatch(n -> n.startsWith("~sluice_") && n.length() <= 63);
            assertThat(db.column("SELECT tgname FROM pg_trigger WHERE tgrelid = '" + t + "'::regclass"))
                    .containsAll(names);
            assertThat(backfill.status(name).sync().installed()).isTrue();
        }
    }

    private static final Transformer LOWER = new LowerEmail();

    private static JobSpec java(String table) {
        return SpecParser.parse("name: j-" + table + "\ntable: " + table + "\nkey: [id]\nsync: trigger\n"
                + "transformer: lower\nchunk: { rows: 300, min-rows: 300, max-rows: 300 }\n"
                + "validate: [ { target: email_lower, source: lower(email) } ]\n");
    }

    @Test
    void javaModeRefusesATriggerThatFiresOnItsOwnUpdateAndKeepsOneThatDoesNotInStep() throws SQLException {
        Backfill backfill = Backfill.builder(ds)
                .transformers(name -> name.equals("lower") ? LOWER : null)
                .build();
        String refused =
                table("CREATE TRIGGER tidy_email BEFORE INSERT OR UPDATE ON $T FOR EACH ROW EXECUTE FUNCTION tidy()");
        assertThatThrownBy(() -> backfill.run(java(refused), RunOptions.defaults()))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("sync: trigger tidy_email")
                .hasMessageContaining("fires on the runner's own UPDATE")
                .hasMessageContaining("BEFORE UPDATE OF");
        assertThat(db.count("SELECT count(*) FROM " + refused + " WHERE email_lower IS NOT NULL"))
                .isZero();

        // Declared on the columns it needs, it never fires on the runner's writes of email_lower.
        String t = table("CREATE TRIGGER tidy_email BEFORE INSERT OR UPDATE OF email, status ON $T FOR EACH ROW"
                + " EXECUTE FUNCTION tidy()");
        JobSpec spec = java(t);
        assertThat(backfill.run(spec, RunOptions.defaults()).outcome()).isEqualTo(RunResult.Outcome.COMPLETED);
        applicationWrites(t);
        assertThat(backfill.run(spec, RunOptions.defaults()).outcome()).isEqualTo(RunResult.Outcome.ALREADY_COMPLETE);
        assertThat(outOfStep(t)).as("rows out of step once the log is drained").isZero();
    }

    @Test
    void aCopyMirrorsWhatTheSourcesTriggersLeaveAndRefusesATargetTriggerOnItsColumns() throws SQLException {
        String t =
                table("CREATE TRIGGER tidy_email BEFORE INSERT OR UPDATE ON $T FOR EACH ROW EXECUTE FUNCTION tidy()");
        db.exec(
                "CREATE TABLE " + t + "_v2 (id int PRIMARY KEY, email text, stamped timestamptz)",
                "CREATE TRIGGER stamp BEFORE UPDATE ON " + t
                        + "_v2 FOR EACH ROW EXECUTE FUNCTION moddatetime(stamped)");
        JobSpec copy = SpecParser.parse("name: c-" + t + "\ntable: " + t + "\nkey: [id]\nsync: trigger\ninto: " + t
                + "_v2\ncolumns: { id: id, email: lower(email) }\n");
        RunResult run = new Backfill(ds).run(copy, RunOptions.defaults());
        assertThat(run.outcome()).as(run.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        applicationWrites(t);
        assertThat(db.count("SELECT count(*) FROM " + t + " s FULL JOIN " + t + "_v2 c USING (id)"
                        + " WHERE c.email IS DISTINCT FROM lower(s.email)"))
                .as("copies out of step")
                .isZero();

        String other = table();
        db.exec(
                "CREATE TABLE " + other + "_v2 (id int PRIMARY KEY, email text)",
                "CREATE TRIGGER tidy_email BEFORE INSERT ON " + other + "_v2 FOR EACH ROW EXECUTE FUNCTION tidy()");
        assertThatThrownBy(() -> new Backfill(ds)
                        .plan(SpecParser.parse(
                                "name: c-" + other + "\ntable: " + other + "\nkey: [id]\nsync: trigger\ninto: " + other
                                        + "_v2\ncolumns: { id: id, email: lower(email) }\n")))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("sync: trigger tidy_email on " + other + "_v2")
                .hasMessageContaining("out of step with its source");
    }

    @FunctionalInterface
    private interface ThrowingCall {
        Object call() throws Exception;
    }
}
