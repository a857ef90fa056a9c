package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.testing.Eventually;
import dev.sluice.engine.testing.Internals;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code sync: trigger} on a table the application writes to all the time: concurrent writers update the columns
 * the job reads, insert rows below and above the checkpoint, delete rows and change keys for the whole run, while
 * the runner is killed with SIGKILL twice and resumed; after the writers stop, validation finds no mismatch, with no
 * repair pass. In place, copy, and Java transformer; then the contract step (require, finish) from the command line.
 */
class SyncTest extends CliDatabaseTest {

    @BeforeEach
    void seed() {
        db.exec(
                "CREATE TABLE orders (id bigint PRIMARY KEY, email text NOT NULL, amount_cents bigint NOT NULL,"
                        + " email_lower text, amount_dollars numeric(12, 2))",
                // Even keys: the writers insert odd ones, behind the checkpoint as well as ahead of it.
                "INSERT INTO orders (id, email, amount_cents) SELECT g * 2, 'User' || g || '@X.ORG', g"
                        + " FROM generate_series(1, 20000) g",
                "CREATE TABLE orders_v2 (id bigint PRIMARY KEY, email_lower text, amount_dollars numeric(12, 2))",
                "ANALYZE orders");
    }

    private void spec(String name, String body) throws Exception {
        writeSpec(
                name,
                "table: orders\nkey: [id]\n"
                        + "sync: trigger\nchunk: { rows: 400, min-rows: 400, max-rows: 400 }\n"
                        + "throttle: { rows-per-second: 4000 }\n" + body);
    }

    private static final String RULES = """
            validate:
              - { target: email_lower, source: lower(email) }
              - { target: amount_dollars, source: amount_cents / 100.0 }
            """;

    private static final String OUT_OF_STEP =
            "SELECT count(*) FROM orders WHERE (email_lower IS DISTINCT FROM lower(email)"
                    + " OR amount_dollars IS DISTINCT FROM amount_cents / 100.0)";

    /** Writers doing what an application does, each on its own connection, until stopped. */
    private final class Writers implements AutoCloseable {
        private final AtomicBoolean stop = new AtomicBoolean();
        private final AtomicLong writes = new AtomicLong();
        private final AtomicLong nextHigh = new AtomicLong(1_000_000);
        private final List<Thread> threads = new ArrayList<>();
        private final List<Throwable> failures = new ArrayList<>();

        Writers(int count, long seed) {
            for (int i = 0; i < count; i++) {
                Random random = new Random(seed + i);
                Thread t = new Thread(() -> write(random), "writer-" + i);
                threads.add(t);
                t.start();
            }
        }

        private void write(Random random) {
            try (Connection c = ds.getConnection()) {
                while (!stop.get()) {
                    long id = 2L + random.nextInt(40_000);
                    String sql = switch (random.nextInt(6)) {
                        case 0, 1 ->
                            "UPDATE orders SET email = 'Changed" + random.nextInt(1000) + "@Y.ORG',"
                                    + " amount_cents = amount_cents + 1 WHERE id = " + id;
                        case 2 ->
                            "INSERT INTO orders (id, email, amount_cents) VALUES (" + (id | 1) + ", 'Low" + id
                                    + "@X.ORG', 7) ON CONFLICT DO NOTHING";
                        case 3 ->
                            "INSERT INTO orders (id, email, amount_cents) VALUES (" + nextHigh.getAndIncrement()
                                    + ", 'High@X.ORG', 9)";
                        case 4 -> "DELETE FROM orders WHERE id = " + id;
                        default ->
                            "UPDATE orders SET id = "
                                    + (random.nextBoolean()
                                            ? 2 + random.nextInt(40_000) | 1
                                            : nextHigh.getAndIncrement())
                                    + " WHERE id = " + id;
                    };
                    try (PreparedStatement ps = c.prepareStatement(sql)) {
                        ps.executeUpdate();
                        writes.incrementAndGet();
                    } catch (SQLException e) {
                        if (!"23505".equals(e.getSQLState()) && !"40P01".equals(e.getSQLState())) {
                            throw e; // a key taken meanwhile, or a deadlock with another writer: the application
                            // retries
                        }
                    }
                    Thread.sleep(2);
                }
            } catch (Throwable t) {
                synchronized (failures) {
                    failures.add(t);
                }
            }
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            for (Thread t : threads) {
                t.join(TimeUnit.SECONDS.toMillis(30));
            }
            assertThat(failures).as("writer failures").isEmpty();
        }
    }

    /**
     * Runs job {@code name} under the writers, killed twice and resumed, each kill followed by {@code behind}, a
     * query that counts rows at or below the checkpoint that are out of step; then checks the end.
     */
    private void underWritersWithKills(String name, String behind, String outOfStep) throws Exception {
        Backfill backfill = new Backfill(ds);
        long seed = System.nanoTime();
        System.out.println("writers of job " + name + ": seed " + seed);
        long writes;
        try (Writers writers = new Writers(2, seed)) {
            int kills = Kills.repeatedly(dir, args("run", name), backfill, name, 2, 8, (kill, status) -> {
                String done = behind(status);
                assertThat(db.count(behind.replace("BEHIND", done)))
                        .as("rows behind the checkpoints (" + done + ") out of step (writers' seed " + seed + ")")
                        .isZero();
            });
            assertThat(kills).isEqualTo(2);
            Cli.Result resumed = Cli.run(args("resume", name));
            assertThat(resumed.exitCode()).as(resumed.out() + resumed.err()).isZero();
            writes = writers.writes.get();
        }
        assertThat(writes).as("application writes during the run").isGreaterThan(200);
        Cli.Result validated = Cli.run(args("validate", name));
        assertThat(validated.exitCode()).as(validated.out() + validated.err()).isZero();
        assertThat(validated.out()).contains("0 mismatches").doesNotContain("repair");
        assertThat(db.count(outOfStep))
                .as("out of step (writers' seed " + seed + ")")
                .isZero();
        Cli.Result required = Cli.run(args("require", name));
        assertThat(required.exitCode()).as(required.out() + required.err()).isZero();
    }

    /** The keys the job's checkpoints have passed: one range per partition, or up to the one checkpoint. */
    private static String behind(JobStatus s) {
        if (s.partitions().isEmpty()) {
            return "id <= " + (s.lastKey().isEmpty() ? "0" : s.lastKey().get(0));
        }
        List<String> ranges = new ArrayList<>();
        for (JobStatus.Partition p : s.partitions()) {
            List<String> upTo = p.state().equals("COMPLETED") ? p.to() : p.lastKey();
            if (upTo.isEmpty() && !p.state().equals("COMPLETED")) {
                continue;
            }
            List<String> bounds = new ArrayList<>();
            if (!p.from().isEmpty()) {
                bounds.add("id > " + p.from().get(0));
            }
            if (!upTo.isEmpty()) {
                bounds.add("id <= " + upTo.get(0));
            }
            ranges.add(bounds.isEmpty() ? "true" : "(" + String.join(" AND ", bounds) + ")");
        }
        return ranges.isEmpty() ? "false" : "(" + String.join(" OR ", ranges) + ")";
    }

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void inPlaceStaysInStepUnderWritersAndKills() throws Exception {
        spec("inplace", "set: { email_lower: lower(email), amount_dollars: amount_cents / 100.0 }\n" + RULES);
        underWritersWithKills("inplace", OUT_OF_STEP + " AND BEHIND", OUT_OF_STEP);
    }

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void aCopyStaysInStepUnderWritersAndKills() throws Exception {
        spec(
                "copy",
                "into: orders_v2\ncolumns: { id: id, email_lower: lower(email), amount_dollars: amount_cents / 100.0 }\n");
        String differs =
                "SELECT count(*) FROM orders o FULL JOIN orders_v2 v USING (id) WHERE (o.id IS NULL OR v.id IS NULL"
                        + " OR v.email_lower IS DISTINCT FROM lower(o.email) OR v.amount_dollars IS DISTINCT FROM o.amount_cents / 100.0)";
        underWritersWithKills("copy", differs + " AND BEHIND", differs);
    }

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void aJavaTransformerStaysInStepUnderWritersAndKills() throws Exception {
        spec("java", "transformer: email-lower-dollars\n" + RULES);
        // Behind the checkpoint, a row is either in step or its key waits in the key log for the runner.
        underWritersWithKills(
                "java",
                OUT_OF_STEP + " AND BEHIND AND id NOT IN (SELECT id FROM sluice.\"sync_log_java\")",
                OUT_OF_STEP);
    }

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void aJavaTransformerInThreePartitionsStaysInStepUnderWritersAndKills() throws Exception {
        spec("javapar", "transformer: email-lower-dollars\nparallel: 3\n" + RULES);
        underWritersWithKills(
                "javapar",
                OUT_OF_STEP + " AND BEHIND AND id NOT IN (SELECT id FROM sluice.\"sync_log_javapar\")",
                OUT_OF_STEP);
    }

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void aCopyInThreePartitionsStaysInStepUnderWritersAndKills() throws Exception {
        spec("copypar", """
                into: orders_v2
                parallel: 3
                columns: { id: id, email_lower: lower(email), amount_dollars: amount_cents / 100.0 }
                """);
        String differs =
                "SELECT count(*) FROM orders o FULL JOIN orders_v2 v USING (id) WHERE (o.id IS NULL OR v.id IS NULL"
                        + " OR v.email_lower IS DISTINCT FROM lower(o.email) OR v.amount_dollars IS DISTINCT FROM o.amount_cents / 100.0)";
        underWritersWithKills("copypar", differs + " AND BEHIND", differs);
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void aJavaJobsKeyLogIsDrainedBeforeFinishAndNeverDroppedWithKeysInIt() throws Exception {
        spec("java-finish", "transformer: email-lower-dollars\n" + RULES);
        assertThat(Cli.run(args("run", "java-finish")).exitCode()).isZero();
        db.exec("UPDATE orders SET email = 'Later@X.ORG' WHERE id = 4");
        assertThat(db.count("SELECT count(*) FROM sluice.\"sync_log_java-finish\""))
                .isEqualTo(1);
        Cli.Result waiting = Cli.run(args("require", "java-finish"));
        assertThat(waiting.exitCode()).isEqualTo(4);
        assertThat(waiting.err()).contains("1 rows changed by the application are not re-applied yet");
        // Had the key arrived while finish waited for the table, the drop would find it and leave everything be.
        assertThat(Internals.dropSyncRefusedForWaitingKeys(ds, "java-finish")).isTrue();
        assertThat(db.count("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'orders'::regclass"))
                .isEqualTo(2);

        assertThat(Cli.run(args("run", "java-finish")).exitCode()).isZero(); // drains the log
        assertThat(db.one("SELECT email_lower FROM orders WHERE id = 4")).isEqualTo("later@x.org");
        Cli.Result finished = Cli.run(args("finish", "java-finish"));
        assertThat(finished.exitCode()).as(finished.err()).isZero();
        assertThat(db.exists("sluice.\"sync_log_java-finish\"")).isFalse();
        // A finished job runs and validates as a completed one, without its log.
        Cli.Result again = Cli.run(args("run", "java-finish"));
        assertThat(again.exitCode()).as(again.out() + again.err()).isZero();
        Cli.Result validated = Cli.run(args("validate", "java-finish"));
        assertThat(validated.exitCode()).as(validated.out() + validated.err()).isZero();
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aCompletedJavaJobOnABusyTableIsKeptInStepPassesRequireWithinItsLagAndFinishesWithoutLosingAKey()
            throws Exception {
        spec("busy", "transformer: email-lower-dollars\n" + RULES);
        assertThat(Cli.run(args("run", "busy")).exitCode()).isZero();
        String stamped =
                "UPDATE orders SET email = 'App' || id || '@' || extract(epoch FROM clock_timestamp()) || '.ORG'"
                        + " WHERE id = ";
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicLong written = new AtomicLong();
        Thread app = new Thread(
                () -> {
                    Random random = new Random(7);
                    try (Connection c = ds.getConnection()) {
                        while (writing.get()) {
                            try (PreparedStatement ps =
                                    c.prepareStatement(stamped + (2 + 2 * random.nextInt(20_000)))) {
                                ps.executeUpdate();
                            }
                            written.incrementAndGet();
                            Thread.sleep(5);
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                },
                "application");
        app.start();
        Path log = dir.resolve("keep-in-step.log");
        Process keeper = Cli.spawn(log, args("run", "busy", "--keep-in-step"));
        try {
            Eventually.eventually(
                    Duration.ofSeconds(60),
                    "the keeper keeping in step",
                    () -> Files.readString(log).contains("keeping busy in step"));
            Thread.sleep(3000);
            // The application writes all the time: keys wait, but only those of the last moments.
            Cli.Result lagging = Cli.run(args("require", "busy", "--sync-lag", "20s"));
            assertThat(lagging.exitCode())
                    .as(lagging.out() + lagging.err() + Files.readString(log))
                    .isZero();
            assertThat(lagging.out()).contains("done: busy COMPLETED");
            String json = Cli.run(args("status", "busy", "--json")).out();
            assertThat(json).contains("\"pendingKeys\"").contains("\"oldestPendingSeconds\"");

            Cli.Result finished = Cli.run(args("finish", "busy"));
            assertThat(finished.exitCode()).as(finished.out() + finished.err()).isZero();
            assertThat(keeper.waitFor(30, TimeUnit.SECONDS))
                    .as("the keeper stops once the trigger is gone")
                    .isTrue();
            assertThat(keeper.exitValue()).as(Files.readString(log)).isZero();
        } finally {
            writing.set(false);
            app.join(TimeUnit.SECONDS.toMillis(30));
            keeper.destroyForcibly();
        }
        assertThat(written.get()).as("the application wrote throughout").isGreaterThan(200);
        // Every write the application committed before finish began its last transaction was re-applied: the rows out
        // of step now were all written after the trigger went (their email holds when).
        long droppedAt = Math.round(Double.parseDouble(db.one(
                        "SELECT extract(epoch FROM dropped_at) FROM" + " sluice.sync_triggers WHERE job = 'busy'"))
                * 1000);
        List<String> late = db.column("SELECT email FROM orders WHERE email_lower IS DISTINCT FROM lower(email)");
        for (String email : late) {
            double at = Double.parseDouble(email.replaceAll("^App\\d+@|\\.ORG$", ""));
            assertThat(Math.round(at * 1000))
                    .as("an out-of-step row written before the trigger was dropped: " + email)
                    .isGreaterThanOrEqualTo(droppedAt);
        }
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void requireAndFinishGateTheContractStep() throws Exception {
        spec(
                "gate",
                "set: { email_lower: lower(email) }\nvalidate: [ { target: email_lower, source: lower(email) } ]\n");
        Cli.Result notYet = Cli.run(args("require", "gate"));
        assertThat(notYet.exitCode()).isEqualTo(4);
        assertThat(notYet.err()).isEqualTo("sluice: job gate is not done: it has never run on this database\n");
        assertThat(Cli.run(args("finish", "gate")).exitCode()).isEqualTo(4);

        assertThat(Cli.run(args("run", "gate")).exitCode()).isZero();
        db.exec("UPDATE orders SET email_lower = 'drifted' WHERE id = 2"); // the trigger computes from reads only
        assertThat(Cli.run(args("validate", "gate")).exitCode()).isEqualTo(3);
        Cli.Result dirty = Cli.run(args("require", "gate"));
        assertThat(dirty.exitCode()).isEqualTo(4);
        assertThat(dirty.err()).contains("job gate is not done: ").contains("1 mismatches");
        Cli.Result refused = Cli.run(args("finish", "gate"));
        assertThat(refused.exitCode()).isEqualTo(4);
        assertThat(refused.err()).contains("job gate cannot finish: ").contains("1 mismatches");
        assertThat(db.count("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'orders'::regclass"))
                .isEqualTo(2);

        assertThat(Cli.run(args("run", "gate", "--only-mismatched")).exitCode()).isZero();
        db.exec("DROP TRIGGER \"~sluice_gate_upd\" ON orders"); // someone removed it: not in step any more
        Cli.Result missing = Cli.run(args("require", "gate"));
        assertThat(missing.exitCode()).isEqualTo(4);
        assertThat(missing.err()).contains("its sync trigger is not on public.orders");
        assertThat(Cli.run(args("run", "gate")).exitCode()).isZero(); // a later run puts it back

        Cli.Result ready = Cli.run(args("require", "gate"));
        assertThat(ready.exitCode()).as(ready.err()).isZero();
        assertThat(ready.out()).contains("done: gate COMPLETED");
        Cli.Result finished = Cli.run(args("finish", "gate"));
        assertThat(finished.exitCode()).as(finished.err()).isZero();
        assertThat(finished.out()).contains("job gate is FINISHED: its sync trigger is dropped from public.orders");
        assertThat(db.count("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'orders'::regclass"))
                .isZero();
        assertThat(Cli.run(args("status", "gate", "--json")).out())
                .contains("\"state\":\"FINISHED\"")
                .contains("\"dropped\":true");
        assertThat(Cli.run(args("require", "gate")).exitCode()).isZero();
        assertThat(Cli.run(args("finish", "gate")).out()).contains("already finished");
    }
}
