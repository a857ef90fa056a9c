package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.testing.Eventually;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code sluice finish} on the command line: the contract steps, killed with SIGKILL at random instants and finished
 * by running it again (every object valid, no INVALID index), reversed by {@code rollback} to the same schema and
 * rows, refused by name (exit 3) where the rows do not allow a step, and no way back after {@code --purge}.
 */
class FinishTest extends CliDatabaseTest {

    private static final String BODY = """
            table: orders
            key: [id]
            set: { email_lower: lower(email) }
            sync: trigger
            chunk: { rows: 5000 }
            validate: [ { target: email_lower, source: lower(email) } ]
            contract:
              - not-null: email_lower
              - index: { name: orders_email_lower_key, columns: [email_lower], unique: true }
              - check: { name: orders_amount_positive, expression: "amount >= 0" }
              - index: { name: orders_amount_idx, columns: [amount, id] }
              - drop-columns: [legacy]
            """;

    @BeforeEach
    void orders() {
        db.exec(
                "CREATE TABLE orders (id bigint PRIMARY KEY, email text NOT NULL, email_lower text, amount int NOT NULL"
                        + " DEFAULT 0, legacy text NOT NULL DEFAULT 'x')",
                "INSERT INTO orders SELECT g, 'User' || g || '@X.org', NULL, g % 97, 'old' || g"
                        + " FROM generate_series(1, 200000) g",
                "ANALYZE orders");
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void killedAtRandomInstantsThenFinishedAgainThenRolledBackToTheSameSchemaAndRows() throws Exception {
        writeSpec("contracted", BODY);
        String schema = db.definition("orders");
        String rows = db.checksum("orders", "id");
        Cli.Result plan = Cli.run(args("plan", "contracted"));
        assertThat(plan.exitCode()).as(plan.err()).isZero();
        assertThat(plan.out())
                .contains("contract[1].index", "CREATE UNIQUE INDEX CONCURRENTLY", "SHARE UPDATE EXCLUSIVE");
        Cli.Result run = Cli.run(args("run", "contracted"));
        assertThat(run.exitCode()).as(run.err()).isZero();

        Backfill backfill = new Backfill(ds);
        long seed = ThreadLocalRandom.current().nextLong();
        java.util.Random random = new java.util.Random(seed);
        for (int kill = 1; kill <= 3; kill++) {
            Process finish = Cli.spawn(dir.resolve("finish-" + kill + ".log"), args("finish", "contracted"));
            // Into the contract: once the kill-th step has begun (or finish ended), a random moment later.
            int begun = kill;
            Eventually.eventually(
                    Duration.ofSeconds(60),
                    "step " + kill + " begun",
                    () -> db.exists("sluice.contract_steps")
                            ? db.count("SELECT count(*) FROM sluice.contract_steps")
                            : 0L,
                    n -> n >= begun || !finish.isAlive());
            Thread.sleep(random.nextInt(300));
            boolean alive = finish.isAlive();
            finish.destroyForcibly();
            finish.waitFor();
            System.out.printf(
                    "kill %d (seed %d)%s: steps %s, indexes %s%n",
                    kill,
                    seed,
                    alive ? "" : " came after finish ended",
                    db.column("SELECT step || ':' || state FROM sluice.contract_steps ORDER BY step"),
                    db.column("SELECT c.relname || ':' || i.indisvalid FROM pg_index i JOIN pg_class c"
                            + " ON c.oid = i.indexrelid WHERE i.indrelid = 'orders'::regclass ORDER BY 1"));
            Eventually.eventually(
                    Duration.ofSeconds(30),
                    "the killed finish's lock gone",
                    () -> backfill.status("contracted"),
                    s -> !s.running());
        }
        Cli.Result finished = Cli.run(args("finish", "contracted"));
        assertThat(finished.exitCode()).as(finished.out() + finished.err()).isZero();
        assertThat(db.column("SELECT indisvalid FROM pg_index WHERE indrelid = 'orders'::regclass"))
                .as("no INVALID index (seed %d)", seed)
                .containsOnly("t")
                .hasSize(3);
        assertThat(db.count(
                        "SELECT count(*) FROM pg_constraint WHERE conrelid = 'orders'::regclass AND NOT convalidated"))
                .isZero();
        assertThat(db.one("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'orders'::regclass"
                        + " AND attname = 'email_lower'"))
                .isEqualTo("t");
        Cli.Result status = Cli.run(args("status", "contracted", "--json"));
        assertThat(status.out())
                .contains("\"state\":\"FINISHED\"")
                .contains("{\"step\":\"contract[1].index\",\"state\":\"DONE\"")
                .contains("\"purged\":false,\"undoable\":true");
        assertThat(Cli.run(args("status", "contracted")).out())
                .contains("contract: contract[0].not-null DONE, contract[1].index DONE")
                .contains("'rollback contracted' undoes it, until 'finish contracted --purge'");
        assertThat(Cli.run(args("plan", "contracted")).out())
                .contains("contract[1].index (done)", "'rollback contracted' undoes it (until 'finish --purge')");

        Cli.Result rollback = Cli.run(args("rollback", "contracted"));
        assertThat(rollback.exitCode()).as(rollback.out() + rollback.err()).isZero();
        assertThat(db.definition("orders")).isEqualTo(schema);
        assertThat(db.checksum("orders", "id")).isEqualTo(rows);
    }

    /**
     * A finish killed while its index build reads the table: the build must not run on in the server without it
     * (beside the next finish's DDL on the same table), and the next finish builds the index again.
     */
    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aFinishKilledInTheMiddleOfItsIndexBuildLeavesNothingRunningOnTheServer() throws Exception {
        // An index expression that takes a millisecond a row: a build of 200,000 rows would run for minutes.
        db.exec("CREATE FUNCTION slow_lower(t text) RETURNS text IMMUTABLE LANGUAGE plpgsql"
                + " AS $$ BEGIN PERFORM pg_sleep(0.001); RETURN lower(t); END $$");
        writeSpec("slow", """
                table: orders
                key: [id]
                set: { email_lower: lower(email) }
                validate: [ { target: email_lower, source: lower(email) } ]
                contract:
                  - index: { name: orders_slow_idx, expression: "slow_lower(email)" }
                """);
        Cli.Result run = Cli.run(args("run", "slow"));
        assertThat(run.exitCode()).as(run.err()).isZero();
        Process finish = Cli.spawn(dir.resolve("finish-slow.log"), args("finish", "slow"));
        String build = "SELECT pid FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%'"
                + " AND state = 'active'";
        String pid = Eventually.eventually(
                        Duration.ofSeconds(60),
                        "the index build under way",
                        () -> db.column(build),
                        pids -> !pids.isEmpty() || !finish.isAlive())
                .stream()
                .findFirst()
                .orElseThrow(() -> new AssertionError("finish ended before its index build"));
        Thread.sleep(500);
        finish.destroyForcibly();
        assertThat(finish.waitFor()).isEqualTo(137);
        Eventually.eventually(
                Duration.ofSeconds(30),
                "the killed finish's index build (backend " + pid + ") ended by its server",
                () -> db.count("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid) == 0);
        assertThat(db.column("SELECT indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                        + " WHERE c.relname = 'orders_slow_idx'"))
                .containsExactly("f");

        db.exec("CREATE OR REPLACE FUNCTION slow_lower(t text) RETURNS text IMMUTABLE LANGUAGE sql"
                + " AS $$ SELECT lower(t) $$");
        Cli.Result finished = Cli.run(args("finish", "slow"));
        assertThat(finished.exitCode()).as(finished.out() + finished.err()).isZero();
        assertThat(db.column("SELECT indisvalid FROM pg_index WHERE indrelid = 'orders'::regclass"))
                .containsOnly("t")
                .hasSize(2);
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void duplicateKeysAreNamedAndAPurgedJobCannotBeRolledBack() throws Exception {
        writeSpec("dups", BODY);
        Cli.Result ran = Cli.run(args("run", "dups"));
        assertThat(ran.exitCode()).as(ran.out() + ran.err()).isZero();
        // Written behind the validation's back, with the trigger in place: two rows the unique index cannot hold.
        db.exec("UPDATE orders SET email = 'same@x.org' WHERE id IN (7, 8)");
        Cli.Result dup = Cli.run(args("finish", "dups"));
        assertThat(dup.exitCode()).as(dup.out() + dup.err()).isEqualTo(3);
        assertThat(dup.err()).contains("contract[1].index", "2 rows hold same@x.org");
        assertThat(db.count("SELECT count(*) FROM pg_class WHERE relname = 'orders_email_lower_key'"))
                .isZero();

        // Finish dropped the sync trigger before its steps: the application writes both columns by now.
        db.exec("UPDATE orders SET email = 'other@x.org', email_lower = 'other@x.org' WHERE id = 8");
        assertThat(Cli.run(args("finish", "dups")).exitCode()).isZero();
        assertThat(db.column("SELECT attname FROM pg_attribute WHERE attrelid = 'orders'::regclass"
                        + " AND attname LIKE 'legacy%' AND NOT attisdropped"))
                .singleElement()
                .asString()
                .startsWith("legacy_sluice_dropped_");
        Cli.Result purged = Cli.run(args("finish", "dups", "--purge"));
        assertThat(purged.exitCode()).as(purged.out() + purged.err()).isZero();
        assertThat(purged.out()).contains("purged", "can no longer be rolled back");
        assertThat(db.count("SELECT count(*) FROM pg_attribute WHERE attrelid = 'orders'::regclass"
                        + " AND attname LIKE 'legacy%' AND NOT attisdropped"))
                .isZero();
        assertThat(Cli.run(args("status", "dups", "--json")).out()).contains("\"purged\":true,\"undoable\":false");
        assertThat(Cli.run(args("plan", "dups")).out()).contains("rollback can no longer undo it");
        // A purge run again (as after one stopped half way) finishes what is left of it: nothing, here.
        Cli.Result again = Cli.run(args("finish", "dups", "--purge"));
        assertThat(again.exitCode()).as(again.out() + again.err()).isZero();
        Cli.Result late = Cli.run(args("rollback", "dups"));
        assertThat(late.exitCode()).isEqualTo(4);
        assertThat(late.err()).contains("purged");
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aJobWaitsForTheJobsItNamesAfter() throws Exception {
        writeSpec("first", BODY.replaceAll("(?s)contract:.*", ""));
        writeSpec("second", """
                after: [first]
                table: orders
                key: [id]
                set: { legacy: upper(legacy) }
                validate: [ { target: legacy, source: upper(legacy) } ]
                """);
        Cli.Result waiting = Cli.run(args("run", "second"));
        assertThat(waiting.exitCode()).as(waiting.out() + waiting.err()).isEqualTo(4);
        assertThat(waiting.err()).contains("waits for job first");
        assertThat(db.exists("sluice.batch_job_instance")).as("nothing written").isFalse();
        assertThat(Cli.run(args("run", "first")).exitCode()).isZero();
        Cli.Result ran = Cli.run(args("run", "second"));
        assertThat(ran.exitCode()).as(ran.out() + ran.err()).isZero();

        // Jobs that wait for each other would never start: refused before anything is written.
        String body = "table: orders\nkey: [id]\nset: { amount: amount + 1 }\n";
        writeSpec("ping", "after: [pong]\n" + body);
        writeSpec("pong", "after: [second, ping]\n" + body);
        for (String job : new String[] {"ping", "pong"}) {
            Cli.Result cycle = Cli.run(args("plan", job));
            assertThat(cycle.exitCode()).as(cycle.out() + cycle.err()).isEqualTo(2);
            assertThat(cycle.err()).contains("sluice: after: the jobs wait for each other in a cycle: " + job);
        }
    }
}
