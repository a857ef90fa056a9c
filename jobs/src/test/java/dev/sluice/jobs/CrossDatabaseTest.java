package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Postgres;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Copying from one database into another: chunks read from the source, checkpoints committed in the target. */
class CrossDatabaseTest {

    private static final int ROWS = 60_000;

    @TempDir
    Path dir;

    private HikariDataSource source;
    private HikariDataSource target;
    private Db targetDb;

    @BeforeEach
    void databases() throws Exception {
        source = Postgres.newDatabase();
        target = Postgres.newDatabase();
        new Db(source)
                .exec(
                        "CREATE TABLE orders (id bigint PRIMARY KEY, email text NOT NULL, amount_cents bigint NOT NULL)",
                        "INSERT INTO orders SELECT g, 'U' || g || '@X.ORG', g * 7 FROM generate_series(1, " + ROWS
                                + ") g",
                        "ANALYZE orders");
        targetDb = new Db(target);
        targetDb.exec("CREATE TABLE orders_v2 (order_id bigint PRIMARY KEY, email text, amount numeric(12, 2))");
        Files.createDirectories(dir.resolve("jobs"));
        Files.writeString(dir.resolve("jobs/cross.yml"), """
                name: cross
                source: { jdbc-url: "%s" }
                table: orders
                key: [id]
                into: orders_v2
                columns: { order_id: id, email: lower(email), amount: amount_cents / 100.0 }
                chunk: { rows: 400, min-rows: 400, max-rows: 400 }
                """.formatted(source.getJdbcUrl()));
    }

    @AfterEach
    void close() {
        source.close();
        target.close();
    }

    private String[] args(String... args) {
        return Cli.against(dir, target.getJdbcUrl(), args);
    }

    private long wrongRows() {
        return targetDb.count("SELECT count(*) FROM orders_v2 WHERE email <> 'u' || order_id || '@x.org'"
                + " OR amount <> round(order_id * 7 / 100.0, 2)");
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void aCrossDatabaseCopyKilledWithSigkillResumesToWhatOneRunGives() throws Exception {
        Cli.Result plan = Cli.run(args("plan", "cross"));
        assertThat(plan.exitCode()).as(plan.err()).isZero();
        assertThat(plan.out()).contains("ok   source").contains("copy from the source into public.orders_v2");
        assertThat(new Db(source).exists("sluice.batch_job_instance")).isFalse();

        Backfill backfill = new Backfill(target);
        int kills = Kills.repeatedly(
                dir,
                args("run", "cross"),
                backfill,
                "cross",
                5,
                25,
                (kill, status) -> assertThat(targetDb.count("SELECT count(*) FROM orders_v2"))
                        .as("target rows = checkpoint after kill %d", kill)
                        .isEqualTo(status.rowsProcessed()));
        assertThat(kills).isGreaterThanOrEqualTo(5);
        Cli.Result last = Cli.run(args("run", "cross"));
        assertThat(last.exitCode()).as(last.out() + last.err()).isZero();
        assertThat(last.out()).contains("validation clean");
        assertThat(targetDb.count("SELECT count(*) FROM orders_v2")).isEqualTo(ROWS);
        assertThat(wrongRows()).isZero();
        assertThat(new Db(source).exists("sluice.batch_job_instance"))
                .as("nothing written to the source")
                .isFalse();

        targetDb.exec(
                "DELETE FROM orders_v2 WHERE order_id = 1234", "UPDATE orders_v2 SET amount = 0 WHERE order_id = 4321");
        Cli.Result found = Cli.run(args("validate", "cross", "--json"));
        assertThat(found.exitCode()).isEqualTo(3);
        assertThat(found.out())
                .contains("\"rule\":\"missing in target\",\"rowsChecked\":" + ROWS + ",\"mismatches\":1")
                .contains("\"rule\":\"different values\",\"rowsChecked\":" + ROWS + ",\"mismatches\":1");
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void aSyncTriggerInTheSourceLogsChangedKeysThatEveryRunReapplies() throws Exception {
        Files.writeString(
                dir.resolve("jobs/cross.yml"), Files.readString(dir.resolve("jobs/cross.yml")) + "sync: trigger\n");
        Cli.Result plan = Cli.run(args("plan", "cross"));
        assertThat(plan.exitCode()).as(plan.err()).isZero();
        assertThat(plan.out())
                .contains("keys of written rows logged in \"sluice\".\"sync_log_cross\" (in the source database)");
        assertThat(Cli.run(args("run", "cross")).exitCode()).isZero();
        Db sourceDb = new Db(source);
        assertThat(sourceDb.count("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'orders'::regclass"))
                .isEqualTo(2);
        // None on the target's tables (the job repository's own schema has the partitions' channel's NOTIFY trigger).
        assertThat(targetDb.count("SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                        + " WHERE NOT t.tgisinternal AND c.relnamespace <> 'sluice'::regnamespace"))
                .isZero();

        sourceDb.exec(
                "UPDATE orders SET email = 'CHANGED@X.ORG' WHERE id = 10",
                "DELETE FROM orders WHERE id = 20",
                "UPDATE orders SET id = 100000 WHERE id = 30",
                "INSERT INTO orders VALUES (100001, 'NEW@X.ORG', 1)",
                "INSERT INTO orders VALUES (0, 'ZERO@X.ORG', 2)");
        assertThat(sourceDb.count("SELECT count(*) FROM sluice.sync_log_cross")).isEqualTo(6);
        Cli.Result waiting = Cli.run(args("require", "cross"));
        assertThat(waiting.exitCode()).isEqualTo(4);
        assertThat(waiting.err()).contains("6 rows changed by the application are not re-applied yet");
        Cli.Result again = Cli.run(args("run", "cross"));
        assertThat(again.exitCode()).as(again.out() + again.err()).isZero();
        assertThat(targetDb.column("SELECT order_id || '=' || email FROM orders_v2 WHERE order_id IN (0, 10, 20, 30,"
                        + " 100000, 100001) ORDER BY order_id"))
                .containsExactly("0=zero@x.org", "10=changed@x.org", "100000=u30@x.org", "100001=new@x.org");
        assertThat(sourceDb.count("SELECT count(*) FROM sluice.sync_log_cross")).isZero();
        Cli.Result validated = Cli.run(args("validate", "cross"));
        assertThat(validated.exitCode()).as(validated.out()).isZero();
        // After the walk, the greatest key deleted: the drain's bound is the source's new greatest key, below it.
        sourceDb.exec("DELETE FROM orders WHERE id = 100001");
        assertThat(Cli.run(args("run", "cross")).exitCode()).isZero();
        assertThat(targetDb.count("SELECT count(*) FROM orders_v2 WHERE order_id = 100001"))
                .isZero();
        assertThat(Cli.run(args("require", "cross")).exitCode()).isZero();

        Cli.Result finished = Cli.run(args("finish", "cross"));
        assertThat(finished.exitCode()).as(finished.err()).isZero();
        assertThat(sourceDb.count("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'orders'::regclass"))
                .isZero();
        assertThat(sourceDb.exists("sluice.sync_log_cross")).isFalse();
    }

    @Test
    void aSourceUrlWithAPasswordIsRefused() throws Exception {
        Files.writeString(dir.resolve("jobs/leaky.yml"), """
                name: leaky
                source: { jdbc-url: "jdbc:postgresql://db/app?password=hunter2" }
                table: orders
                key: [id]
                into: orders_v2
                columns: { order_id: id }
                """);
        Cli.Result r = Cli.run(args("run", "leaky"));
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err())
                .startsWith("sluice: source.jdbc-url: must not carry a password")
                .doesNotContain("hunter2");
    }
}
