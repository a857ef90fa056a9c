package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.testing.Eventually;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every backfill can be undone: a checksum of the whole table (md5 of every row in key order) taken before the
 * backfill is what a rollback gives back, after a completed run, after runs killed with SIGKILL, after a rollback
 * killed with SIGKILL, in place, Java and copy mode, with composite text keys in a collation; rows changed by others
 * since are reported and left, unless --force.
 */
class UndoTest extends CliDatabaseTest {

    @BeforeEach
    void seed() {
        db.exec(
                "CREATE TABLE orders (id bigint PRIMARY KEY, email text NOT NULL, amount_cents bigint NOT NULL,"
                        + " email_lower text, amount_dollars numeric(12, 2), placed timestamptz, span interval)",
                "INSERT INTO orders SELECT g, 'User' || g || '@X.ORG', g, CASE WHEN g % 3 = 0 THEN 'kept' || g END,"
                        + " CASE WHEN g % 5 = 0 THEN g END, '2020-01-01'::timestamptz + g * interval '1 hour',"
                        + " g * interval '1 minute' FROM generate_series(1, 30000) g",
                "ANALYZE orders");
    }

    private static final String OVERWRITE = """
            table: orders
            key: [id]
            set: { email: lower(trim(email)), email_lower: lower(email), amount_dollars: amount_cents / 100.0 }
            chunk: { rows: 500, min-rows: 500, max-rows: 500 }
            """;

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void aCompletedOverwritingBackfillRolledBackGivesTheTableBack() throws Exception {
        String before = db.checksum("orders", "id");
        writeSpec("overwrite", OVERWRITE);
        assertThat(Cli.run(args("run", "overwrite")).exitCode()).isZero();
        assertThat(db.checksum("orders", "id")).isNotEqualTo(before);
        Cli.Result status = Cli.run(args("status", "overwrite", "--json"));
        assertThat(status.out()).contains("\"undo\":{").contains("\"rows\":30000");

        Cli.Result rolledBack = Cli.run(args("rollback", "overwrite"));
        assertThat(rolledBack.exitCode())
                .as(rolledBack.out() + rolledBack.err())
                .isZero();
        assertThat(rolledBack.out()).contains("rolled back: 30,000 rows restored");
        assertThat(db.checksum("orders", "id")).isEqualTo(before);
        assertThat(Cli.run(args("status", "overwrite", "--json")).out())
                .contains("\"state\":\"ROLLED_BACK\"")
                .contains("\"rows\":0");
        Cli.Result again = Cli.run(args("run", "overwrite"));
        assertThat(again.exitCode()).isEqualTo(4);
        assertThat(again.err()).contains("is rolled back; 'run overwrite --again' starts it anew");
        assertThat(Cli.run(args("run", "overwrite", "--again")).exitCode()).isZero();
        assertThat(db.count("SELECT count(*) FROM orders WHERE email_lower IS DISTINCT FROM lower(email)"))
                .isZero();
    }

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void killedTwiceMidRunThenRolledBackKilledMidRollbackAndRolledBackAgain() throws Exception {
        String before = db.checksum("orders", "id");
        writeSpec("killed", OVERWRITE + "throttle: { rows-per-second: 2000 }\n");
        Backfill backfill = new Backfill(ds);
        int kills = Kills.repeatedly(dir, args("run", "killed"), backfill, "killed", 2, 10, (kill, status) -> {});
        assertThat(kills).isEqualTo(2);

        // The rollback, killed too: each entry restored in one transaction with the rollback's checkpoint.
        long journaled = backfill.status("killed").undo().rows();
        assertThat(journaled).isPositive();
        Process rollback = Cli.spawn(dir.resolve("rollback.log"), args("rollback", "killed"));
        Eventually.eventually(
                Duration.ofSeconds(60),
                "the rollback half way",
                () -> backfill.status("killed"),
                s -> (s.state() == JobStatus.State.ROLLING_BACK && s.undo().rows() < journaled) || !rollback.isAlive());
        assertThat(rollback.isAlive())
                .as("the rollback still running when killed")
                .isTrue();
        rollback.destroyForcibly();
        rollback.waitFor();
        Eventually.eventually(
                Duration.ofSeconds(30),
                "the killed rollback's lock gone",
                () -> backfill.status("killed"),
                s -> !s.running());
        Cli.Result resumed = Cli.run(args("rollback", "killed"));
        assertThat(resumed.exitCode()).as(resumed.out() + resumed.err()).isZero();
        assertThat(db.checksum("orders", "id")).isEqualTo(before);
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aRollbackIsThrottledPausedFromAnotherProcessAndContinued() throws Exception {
        String before = db.checksum("orders", "id");
        writeSpec("paused", OVERWRITE + "throttle: { rows-per-second: 4000 }\n");
        assertThat(Cli.run(args("run", "paused")).exitCode()).isZero();
        Backfill backfill = new Backfill(ds);
        Process rollback = Cli.spawn(dir.resolve("rollback.log"), args("rollback", "paused"));
        JobStatus rolling = Eventually.eventually(
                Duration.ofSeconds(60),
                "the rollback at work",
                () -> backfill.status("paused"),
                s -> (s.state() == JobStatus.State.ROLLING_BACK && s.undo().rows() <= 28000) || !rollback.isAlive());
        assertThat(rollback.isAlive())
                .as("the rollback still running: " + rolling)
                .isTrue();
        assertThat(rolling.running()).isTrue();
        Cli.Result paused = Cli.run(args("pause", "paused"));
        assertThat(paused.exitCode()).as(paused.out() + paused.err()).isZero();
        assertThat(rollback.waitFor()).isEqualTo(5);
        JobStatus held = backfill.status("paused");
        assertThat(held.state()).isEqualTo(JobStatus.State.PAUSED);
        assertThat(held.undo().rows()).isBetween(1L, 28000L);
        assertThat(db.checksum("orders", "id")).isNotEqualTo(before);

        Cli.Result continued = Cli.run(args("rollback", "paused"));
        assertThat(continued.exitCode()).as(continued.out() + continued.err()).isZero();
        assertThat(db.checksum("orders", "id")).isEqualTo(before);
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void rowsChangedSinceAreReportedAndLeftUnlessForced() throws Exception {
        String before = db.checksum("orders", "id");
        writeSpec("changed", OVERWRITE);
        assertThat(Cli.run(args("run", "changed")).exitCode()).isZero();
        db.exec("UPDATE orders SET email_lower = 'theirs' WHERE id = 42", "DELETE FROM orders WHERE id = 43");
        Cli.Result reported = Cli.run(args("rollback", "changed"));
        assertThat(reported.exitCode()).isEqualTo(3);
        assertThat(reported.out())
                .contains("1 rows changed by others since Sluice wrote them were left")
                .contains("key 42: now (user42@x.org,theirs,0.42)");
        assertThat(db.one("SELECT email_lower FROM orders WHERE id = 42")).isEqualTo("theirs");
        assertThat(db.one("SELECT email FROM orders WHERE id = 41")).isEqualTo("User41@X.ORG");

        Cli.Result forced = Cli.run(args("rollback", "changed", "--force"));
        assertThat(forced.exitCode()).as(forced.out() + forced.err()).isZero();
        db.exec(
                "INSERT INTO orders SELECT 43, 'User43@X.ORG', 43, NULL, NULL, '2020-01-01'::timestamptz + 43 * interval"
                        + " '1 hour', 43 * interval '1 minute'"); // the row someone deleted, as it was
        assertThat(db.checksum("orders", "id")).isEqualTo(before);
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void aJavaTransformerJobIsRestoredExactly() throws Exception {
        String before = db.checksum("orders", "id");
        writeSpec("java", "table: orders\nkey: [id]\ntransformer: email-lower-dollars\nchunk: { rows: 700 }\n");
        assertThat(Cli.run(args("run", "java")).exitCode()).isZero();
        assertThat(db.checksum("orders", "id")).isNotEqualTo(before);
        assertThat(Cli.run(args("rollback", "java")).exitCode()).isZero();
        assertThat(db.checksum("orders", "id")).isEqualTo(before);
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void aCopyLosesTheRowsItInsertedAndGetsBackTheRowsItReplaced() throws Exception {
        // 2,000 rows the copy replaces (note, a column it does not write, kept); 28,000 it inserts
        db.exec(
                "CREATE TABLE orders_v2 (order_id bigint PRIMARY KEY, email text, amount numeric(12, 2), note text)",
                "INSERT INTO orders_v2 SELECT g * 10, 'old' || g, g, 'kept' FROM generate_series(1, 2000) g");
        String before = db.checksum("orders_v2", "order_id");
        writeSpec(
                "copy",
                "table: orders\nkey: [id]\ninto: orders_v2\ncolumns: { order_id: id, email: lower(email),"
                        + " amount: amount_cents / 100.0 }\nchunk: { rows: 1000 }\n");
        Cli.Result ran = Cli.run(args("run", "copy"));
        assertThat(ran.exitCode()).as(ran.out() + ran.err()).isZero();
        assertThat(db.count("SELECT count(*) FROM orders_v2")).isEqualTo(30000);
        Cli.Result rolledBack = Cli.run(args("rollback", "copy"));
        assertThat(rolledBack.exitCode())
                .as(rolledBack.out() + rolledBack.err())
                .isZero();
        assertThat(db.checksum("orders_v2", "order_id")).isEqualTo(before);
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void compositeTextKeysInACollationAreRestored() throws Exception {
        db.exec(
                "CREATE TABLE people (tenant text COLLATE \"C\" NOT NULL, handle text COLLATE \"C\" NOT NULL,"
                        + " name text, PRIMARY KEY (tenant, handle))",
                "INSERT INTO people SELECT t, 'Ha' || g || (CASE WHEN g % 2 = 0 THEN 'ä' ELSE 'Z' END), '  Name ' || g"
                        + " FROM unnest(ARRAY['acme', 'Acme', 'b''quote']) t, generate_series(1, 3000) g");
        String before = db.checksum("people", "tenant, handle");
        writeSpec(
                "names",
                "table: people\nkey: [tenant, handle]\nset: { name: upper(trim(name)) }\nchunk: { rows: 800 }\n");
        assertThat(Cli.run(args("run", "names")).exitCode()).isZero();
        assertThat(Cli.run(args("rollback", "names")).exitCode()).isZero();
        assertThat(db.checksum("people", "tenant, handle")).isEqualTo(before);
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void withoutAJournalRollbackRefusesAndFinishPurgesIt() throws Exception {
        writeSpec("nojournal", OVERWRITE + "undo: false\n");
        assertThat(Cli.run(args("run", "nojournal")).exitCode()).isZero();
        Cli.Result refused = Cli.run(args("rollback", "nojournal"));
        assertThat(refused.exitCode()).isEqualTo(2);
        assertThat(refused.err()).startsWith("sluice: undo: job nojournal ran with undo: false");

        writeSpec("purged", OVERWRITE + "validate: [ { target: email_lower, source: lower(email) } ]\n");
        assertThat(Cli.run(args("run", "purged")).exitCode()).isZero();
        Cli.Result finished = Cli.run(args("finish", "purged"));
        assertThat(finished.exitCode()).as(finished.err()).isZero();
        // finish keeps the journal (rollback can still undo it); --purge drops it.
        assertThat(finished.out()).contains("'rollback purged' can still undo it");
        assertThat(db.count("SELECT count(*) FROM sluice.undo_journal WHERE job = 'purged'"))
                .isPositive();
        Cli.Result purged = Cli.run(args("finish", "purged", "--purge"));
        assertThat(purged.exitCode()).as(purged.err()).isZero();
        assertThat(purged.out()).contains("its undo journal (30,000 rows in 60 chunks) is dropped");
        assertThat(db.count("SELECT count(*) FROM sluice.undo_journal WHERE job = 'purged'"))
                .isZero();
        Cli.Result late = Cli.run(args("rollback", "purged"));
        assertThat(late.exitCode()).isEqualTo(4);
        assertThat(late.err()).contains("is finished and purged");
    }
}
