package dev.sluice.engine.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import dev.sluice.engine.FinishResult;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.DatabaseTest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The contract step on a table an application writes the whole time: every kind of step, lock-safe (no application
 * statement waits much longer than {@code timeouts.lock}), recorded, recognised when its effect is there, and
 * reversed by rollback to the same schema and the same rows.
 */
class ContractTest extends DatabaseTest {

    private static final String SPEC = """
            name: orders-email
            table: orders
            key: [id]
            set: { email_lower: lower(email) }
            sync: trigger
            chunk: { rows: 2000 }
            timeouts: { lock: 500ms }
            validate: [ { target: email_lower, source: lower(email) } ]
            contract:
              - not-null: email_lower
              - index: { name: orders_email_lower_key, columns: [email_lower], unique: true }
              - check: { name: orders_amount_positive, expression: "amount >= 0" }
              - foreign-key: { name: orders_customer_fk, columns: [customer_id], references: "customers(id)" }
              - index: { name: orders_amount_idx, expression: "amount * 2", where: "amount > 10" }
              - drop-columns: [legacy]
              - rename-column: { from: note, to: remark }
            """;

    private static final String ROWS = "SELECT md5(string_agg(format('%s|%s|%s|%s|%s|%s', id, email, email_lower,"
            + " customer_id, legacy, note), ',' ORDER BY id)) FROM orders";

    private void orders(int rows) {
        db.exec(
                "CREATE TABLE customers (id int PRIMARY KEY)",
                "INSERT INTO customers SELECT g FROM generate_series(1, 100) g",
                "CREATE TABLE orders (id bigint PRIMARY KEY, email text NOT NULL, email_lower text, amount int NOT NULL"
                        + " DEFAULT 0, customer_id int, legacy text NOT NULL DEFAULT 'x', note text)",
                "INSERT INTO orders SELECT g, 'User' || g || '@X.org', NULL, g % 50, 1 + g % 100, 'old', 'n' || g"
                        + " FROM generate_series(1, " + rows + ") g",
                "ANALYZE orders",
                "ANALYZE customers");
    }

    /** An application updating random rows as fast as it can, timing every statement. */
    private final class Application implements AutoCloseable {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong longestMillis = new AtomicLong();
        final AtomicLong statements = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        final Thread[] threads = new Thread[2];

        Application(int rows) {
            for (int t = 0; t < threads.length; t++) {
                threads[t] = new Thread(() -> {
                    try (Connection c = ds.getConnection();
                            PreparedStatement ps =
                                    c.prepareStatement("UPDATE orders SET amount = amount + 1 WHERE id = ?")) {
                        while (!stop.get()) {
                            ps.setLong(1, 1 + ThreadLocalRandom.current().nextInt(rows));
                            long started = System.nanoTime();
                            try {
                                ps.executeUpdate();
                            } catch (Exception e) {
                                errors.incrementAndGet();
                            }
                            longestMillis.accumulateAndGet((System.nanoTime() - started) / 1_000_000, Math::max);
                            statements.incrementAndGet();
                            Thread.sleep(2);
                        }
                    } catch (Exception e) {
                        errors.incrementAndGet();
                    }
                });
                threads[t].start();
            }
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            for (Thread t : threads) {
                t.join(10_000);
            }
        }
    }

    @Test
    @Timeout(300)
    void everyKindOfStepRunsUnderTheApplicationsWritesAndRollbackGivesBackSchemaAndRows() throws Exception {
        int rows = 20_000;
        orders(rows);
        JobSpec spec = SpecParser.parse(SPEC);
        String schemaBefore = db.definition("orders");
        // The application changes amount throughout; everything else must come back byte for byte.
        String rowsBefore = db.one(ROWS);
        RunResult run = backfill.run(spec, RunOptions.defaults());
        assertThat(run.outcome()).as(run.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        FinishResult finished;
        try (Application app = new Application(rows)) {
            Thread.sleep(300);
            finished = backfill.finish("orders-email", null, false, "test");
            app.close();
            System.out.printf(
                    "finish under %d application statements: the longest waited %d ms (timeouts.lock 500 ms)%n",
                    app.statements.get(), app.longestMillis.get());
            assertThat(app.errors.get()).isZero();
            assertThat(app.statements.get()).isPositive();
            // About timeouts.lock: an attempt's lock_timeout is at most 500 ms; the rest is a loaded machine's slack.
            assertThat(app.longestMillis.get()).isLessThan(2_500);
        }
        assertThat(finished.outcome()).as(finished.message()).isEqualTo(FinishResult.Outcome.FINISHED);
        assertThat(finished.steps()).hasSize(7);
        assertThat(backfill.status("orders-email").state()).isEqualTo(JobStatus.State.FINISHED);
        assertThat(db.one("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'orders'::regclass"
                        + " AND attname = 'email_lower'"))
                .isEqualTo("t");
        assertThat(db.column("SELECT indisvalid FROM pg_index WHERE indrelid = 'orders'::regclass"))
                .containsOnly("t")
                .hasSize(3);
        assertThat(db.column("SELECT conname || ' ' || convalidated FROM pg_constraint"
                        + " WHERE conrelid = 'orders'::regclass AND contype IN ('c', 'f') ORDER BY 1"))
                .containsExactly("orders_amount_positive true", "orders_customer_fk true");
        assertThat(db.column("SELECT attname FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attnum > 0"
                        + " AND NOT attisdropped AND attname IN ('legacy', 'note', 'remark')"))
                .containsExactly("remark");
        // Finish again: every step is recorded done, nothing runs.
        assertThat(backfill.finish("orders-email", null, false, "test").outcome())
                .isEqualTo(FinishResult.Outcome.ALREADY_FINISHED);

        // Rollback of the FINISHED job: its contract reversed newest first, then its rows.
        RunResult rolledBack = backfill.rollback("orders-email", RunOptions.defaults(), true);
        assertThat(rolledBack.outcome()).as(rolledBack.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.definition("orders")).isEqualTo(schemaBefore);
        assertThat(db.one(ROWS)).isEqualTo(rowsBefore);
    }

    /**
     * The job run to completion on {@code rows} orders (without its trigger), and finish's record of its step {@code
     * index} ({@code kind}) begun, as a finish killed in that step leaves it.
     */
    private JobSpec completedWithStepBegun(int rows, int index, String kind) throws Exception {
        orders(rows);
        JobSpec spec = SpecParser.parse(SPEC.replace("sync: trigger\n", ""));
        assertThat(backfill.run(spec, RunOptions.defaults()).outcome()).isEqualTo(RunResult.Outcome.COMPLETED);
        try (Connection c = ds.getConnection()) {
            new Ledger("sluice")
                    .start(
                            c,
                            "orders-email",
                            index,
                            kind,
                            ContractSteps.definition(spec.contract().get(index)),
                            Map.of());
        }
        return spec;
    }

    /**
     * A killed finish's statement can run on in its server after its process and its runner lock are gone: the next
     * finish waits for that session (the mark every step session holds) before it looks at the catalog or changes it.
     */
    @Test
    @Timeout(120)
    void aStepOfAnEarlierFinishStillRunningOnTheServerIsWaitedForBeforeAnythingChanges() throws Exception {
        orders(2_000);
        RunResult run = backfill.run(SpecParser.parse(SPEC), RunOptions.defaults());
        assertThat(run.outcome()).as(run.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        try (Connection earlier = ds.getConnection();
                PreparedStatement mark =
                        earlier.prepareStatement("SELECT pg_advisory_lock(" + StepSessions.KEY + ")")) {
            mark.setString(1, "orders-email");
            mark.execute();
            long triggers = db.count(TRIGGERS);
            CompletableFuture<FinishResult> finish = CompletableFuture.supplyAsync(() -> {
                try {
                    return backfill.finish("orders-email", null, false, "test");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(1_500);
            assertThat(finish)
                    .as("finish went on beside the earlier step's session")
                    .isNotDone();
            assertThat(db.count("SELECT count(*) FROM sluice.contract_steps")).isZero();
            assertThat(db.count(TRIGGERS))
                    .as("the sync trigger, dropped only once the earlier session is gone")
                    .isEqualTo(triggers);
            assertThat(db.one("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'orders'::regclass"
                            + " AND attname = 'email_lower'"))
                    .isEqualTo("f");
            try (PreparedStatement end =
                    earlier.prepareStatement("SELECT pg_advisory_unlock(" + StepSessions.KEY + ")")) {
                end.setString(1, "orders-email");
                end.execute(); // the earlier statement ends (its session goes back to the test's pool)
            }
            FinishResult done = finish.get(90, TimeUnit.SECONDS);
            assertThat(done.outcome()).as(done.message()).isEqualTo(FinishResult.Outcome.FINISHED);
            assertThat(done.steps()).hasSize(7);
            assertThat(db.count(TRIGGERS)).isLessThan(triggers);
        }
    }

    private static final String TRIGGERS =
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'orders'::regclass AND NOT tgisinternal";

    @Test
    @Timeout(120)
    void aStepWhoseEffectIsThereIsRecognisedAndAnInvalidIndexIsBuiltAgain() throws Exception {
        // A build killed halfway leaves an INVALID index of the step's name: as if finish had begun the step.
        JobSpec spec = completedWithStepBegun(5_000, 1, "index");
        db.exec("UPDATE orders SET email_lower = 'dup' WHERE id IN (1, 2)");
        FinishResult dup = backfill.finish("orders-email", null, false, "test");
        // The validation was clean before the duplicates were written behind its back: the unique build names them.
        assertThat(dup.outcome()).as(dup.message()).isEqualTo(FinishResult.Outcome.MISMATCHES);
        assertThat(dup.message()).contains("contract[1].index", "2 rows hold dup");
        assertThat(db.count("SELECT count(*) FROM pg_class WHERE relname = 'orders_email_lower_key'"))
                .isZero();
        db.exec("UPDATE orders SET email_lower = lower(email) WHERE id IN (1, 2)");
        FinishResult ok = backfill.finish("orders-email", null, false, "test");
        assertThat(ok.outcome()).as(ok.message()).isEqualTo(FinishResult.Outcome.FINISHED);
        assertThat(ok.steps().get(0).already()).isFalse();
        assertThat(db.column("SELECT indisvalid FROM pg_index WHERE indrelid = 'orders'::regclass"))
                .containsOnly("t");
    }

    @Test
    void aStepThatCannotRunIsRefusedBeforeAnythingIsWritten() throws Exception {
        orders(100);
        for (String[] bad : new String[][] {
            {"- not-null: nope", "contract[0].not-null"},
            {"- index: { name: i1, expression: \"random()\" }", "contract[0].index"},
            {"- index: { name: orders_pkey, columns: [id] }", "contract[0].index.name"},
            {"- check: { name: c1, expression: \"amount\" }", "contract[0].check"},
            {
                "- foreign-key: { name: f1, columns: [customer_id], references: \"orders(email)\" }",
                "contract[0].foreign-key"
            },
            {
                "- foreign-key: { name: f1, columns: [customer_id], references: \"nowhere(id)\" }",
                "contract[0].foreign-key.references"
            },
            {"- rename-column: { from: note, to: email }", "contract[0].rename-column"},
        }) {
            JobSpec spec = SpecParser.parse(SPEC.replaceAll("(?s)contract:.*", "contract:\n  " + bad[0] + "\n"));
            assertThatThrownBy(() -> backfill.plan(spec))
                    .as(bad[0])
                    .isInstanceOf(SpecException.class)
                    .satisfies(e -> assertThat(((SpecException) e).field()).isEqualTo(bad[1]));
        }
        db.exec("CREATE VIEW old_notes AS SELECT id, legacy FROM orders");
        JobSpec drop = SpecParser.parse(SPEC.replaceAll("(?s)contract:.*", "contract:\n  - drop-columns: [legacy]\n"));
        assertThatThrownBy(() -> backfill.plan(drop))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("old_notes");
        assertThat(db.exists("sluice.contract_steps")).isFalse();
        // The application may read the column until the contract step: the backfill runs, finish refuses.
        RunResult run = backfill.run(drop, RunOptions.defaults());
        assertThat(run.outcome()).as(run.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThatThrownBy(() -> backfill.finish("orders-email", null, false, "test"))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("old_notes");
        assertThat(db.count("SELECT count(*) FROM pg_attribute WHERE attrelid = 'orders'::regclass"
                        + " AND attname = 'legacy'"))
                .isEqualTo(1);
    }

    @Test
    @Timeout(120)
    void aStepBegunIsNeverLeftBehindAndNothingIsUndoneOverWhatWasAddedSince() throws Exception {
        // finish began the last step with this spec, then was killed; a spec without it must not finish the job.
        JobSpec spec = completedWithStepBegun(2_000, 6, "rename-column");
        JobSpec shorter =
                SpecParser.parse(SPEC.replace("sync: trigger\n", "").replaceAll("(?s)  - drop-columns.*", ""));
        assertThatThrownBy(() -> backfill.finish("orders-email", shorter, false, "test"))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("contract[6] was begun as");
        assertThat(backfill.status("orders-email").state()).isEqualTo(JobStatus.State.COMPLETED);

        FinishResult finished = backfill.finish("orders-email", spec, false, "test");
        assertThat(finished.outcome()).as(finished.message()).isEqualTo(FinishResult.Outcome.FINISHED);
        // The application added a column of the set-aside name since: rollback stops there, naming it, undoing no more.
        db.exec("ALTER TABLE orders ADD COLUMN legacy text");
        RunResult refused = backfill.rollback("orders-email", RunOptions.defaults(), false);
        assertThat(refused.outcome()).isEqualTo(RunResult.Outcome.FAILED);
        assertThat(refused.message()).contains("contract[5].drop-columns", "a column of the old name was added");
        assertThat(db.count("SELECT count(*) FROM sluice.contract_steps WHERE state = 'DONE' AND step <= 5"))
                .isEqualTo(6);
    }

    @Test
    void aPartitionedTableGetsNoStepThatCannotBeLockSafe() {
        db.exec(
                "CREATE TABLE parts (id int PRIMARY KEY, v int) PARTITION BY RANGE (id)",
                "CREATE TABLE parts_1 PARTITION OF parts FOR VALUES FROM (0) TO (1000000)");
        JobSpec spec = SpecParser.parse("""
                name: parted
                table: parts
                key: [id]
                set: { v: id }
                contract:
                  - index: { name: parts_v, columns: [v] }
                """);
        assertThatThrownBy(() -> backfill.plan(spec))
                .isInstanceOf(SpecException.class)
                .satisfies(e -> assertThat(((SpecException) e).field()).isEqualTo("contract[0].index"))
                .hasMessageContaining("partitioned");
    }
}
