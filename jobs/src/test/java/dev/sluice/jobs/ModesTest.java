package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.testing.Eventually;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Java-transformer and copy modes through the command line, with the guarantees of the core. */
class ModesTest extends CliDatabaseTest {

    @Test
    void phoneNumbersAreNormalisedByAJavaTransformerWithACompositeKey() throws Exception {
        db.exec(
                "CREATE TABLE contacts (tenant text NOT NULL, id int NOT NULL, phone text, country text, phone_e164 text,"
                        + " PRIMARY KEY (tenant, id))",
                "INSERT INTO contacts SELECT t, g, CASE g % 4 WHEN 0 THEN '(650) 253-' || lpad((g % 10000)::text, 4, '0')"
                        + " WHEN 1 THEN '030 ' || (1000000 + g) WHEN 2 THEN 'n/a' ELSE NULL END,"
                        + " CASE g % 4 WHEN 1 THEN 'DE' ELSE NULL END, 'stale'"
                        + " FROM unnest(ARRAY['acme', 'globex']) t, generate_series(1, 3000) g",
                "ANALYZE contacts");
        writeSpec("phones", """
                table: contacts
                key: [tenant, id]
                transformer: phone-e164
                chunk: { rows: 700 }
                """);
        Cli.Result plan = Cli.run(args("plan", "phones"));
        assertThat(plan.exitCode()).as(plan.err()).isZero();
        assertThat(plan.out())
                .contains("(java)")
                .contains("java: transformer phone-e164 reads [phone, country]")
                .contains("FOR UPDATE")
                .contains("unnest(");

        Cli.Result run = Cli.run(args("run", "phones"));
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(db.one("SELECT phone_e164 FROM contacts WHERE tenant = 'acme' AND id = 4"))
                .isEqualTo("+16502530004");
        assertThat(db.one("SELECT phone_e164 FROM contacts WHERE tenant = 'globex' AND id = 5"))
                .isEqualTo("+49301000005");
        assertThat(db.count("SELECT count(*) FROM contacts WHERE id % 4 IN (2, 3) AND phone_e164 IS NOT NULL"))
                .isZero();
        assertThat(db.count("SELECT count(*) FROM contacts WHERE phone_e164 = 'stale'"))
                .isZero();
    }

    @Test
    void javaModeReadsAndWritesOnlyEachChunksRange() throws Exception {
        // Without the range in its UPDATE, PostgreSQL joined the written values to the whole table by hashing it:
        // one sequential scan per chunk, a cost that grows with the table rather than the chunk.
        db.exec(
                "CREATE TABLE orders (id bigint PRIMARY KEY, email text NOT NULL, amount_cents bigint NOT NULL,"
                        + " email_lower text, amount_dollars numeric(12, 2))",
                "INSERT INTO orders (id, email, amount_cents) SELECT g, 'U' || g || '@X.ORG', g * 7"
                        + " FROM generate_series(1, 300000) g",
                "VACUUM ANALYZE orders");
        long seqScansBefore = tableStat("n_tup_ins", 300000, "seq_scan");
        writeSpec("orders-java", """
                table: orders
                key: [id]
                transformer: email-lower-dollars
                chunk: { rows: 30000, min-rows: 30000, max-rows: 30000 }
                """);
        // Fixed ranges of a tenth of the table (a range of a third may rightly be read by a sequential scan).
        Cli.Result run = Cli.run(args("run", "orders-java"));
        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        // One: plan measures the stored size of the first rows (a page or two) for the undo estimate.
        assertThat(tableStat("n_tup_upd", 300000, "seq_scan")).isEqualTo(seqScansBefore + 1);
        assertThat(db.count("SELECT count(*) FROM orders WHERE email_lower = lower(email)"
                        + " AND amount_dollars = amount_cents / 100.0"))
                .isEqualTo(300000);
    }

    /** A statistic of table orders once another has reached a value: sessions report theirs when they idle or end. */
    private long tableStat(String awaited, long value, String wanted) throws InterruptedException {
        String stat = "SELECT %s FROM pg_stat_user_tables WHERE relname = 'orders'";
        // The statistics collector reports a moment after the writes.
        Eventually.eventually(
                Duration.ofSeconds(10),
                awaited + " reaching " + value,
                () -> db.count(stat.formatted(awaited)) >= value);
        assertThat(db.count(stat.formatted(awaited))).as(awaited).isEqualTo(value);
        return db.count(stat.formatted(wanted));
    }

    @Test
    void copyModeCopiesKeyRangesIdempotentlyIntoAnotherTable() throws Exception {
        db.exec(
                "CREATE TABLE orders (id bigint PRIMARY KEY, email text NOT NULL, amount_cents bigint NOT NULL)",
                "INSERT INTO orders SELECT g, 'U' || g || '@X.ORG', g * 7 FROM generate_series(1, 10000) g",
                "CREATE TABLE orders_v2 (order_id bigint PRIMARY KEY, email text, amount numeric(12, 2), copied_at timestamptz DEFAULT now())",
                "INSERT INTO orders_v2 (order_id, email) VALUES (5, 'old')",
                "ANALYZE orders");
        writeSpec("orders-copy", """
                table: orders
                key: [id]
                into: orders_v2
                columns: { order_id: id, email: lower(email), amount: amount_cents / 100.0 }
                chunk: { rows: 1000 }
                """);
        Cli.Result plan = Cli.run(args("plan", "orders-copy"));
        assertThat(plan.out())
                .contains("copy into public.orders_v2: INSERT ... SELECT ... ON CONFLICT (order_id) DO UPDATE");
        Cli.Result copied = Cli.run(args("run", "orders-copy"));
        assertThat(copied.exitCode()).as(copied.out() + copied.err()).isZero();
        assertThat(copied.out()).contains("validation clean");
        assertThat(db.count("SELECT count(*) FROM orders_v2")).isEqualTo(10000);

        // Validation compares source and target per range (count and hash), and names the rows that differ.
        db.exec(
                "DELETE FROM orders_v2 WHERE order_id = 100",
                "UPDATE orders_v2 SET email = 'drifted' WHERE order_id = 77",
                "DELETE FROM orders WHERE id = 200",
                // above the source's last key, so in no source range: found by the check beyond the last range
                "INSERT INTO orders_v2 (order_id, email) VALUES (20000, 'stray')");
        Cli.Result found = Cli.run(args("validate", "orders-copy"));
        assertThat(found.exitCode()).as(found.out() + found.err()).isEqualTo(3);
        assertThat(found.out())
                .containsPattern("missing in target\\s+1 mismatches\\s+key '100': target NULL")
                .containsPattern("(?s)extra in target\\s+2 mismatches\\s+key '200'.*key '20000'")
                .containsPattern("different values\\s+1 mismatches\\s+key '77': target ''77','drifted'");
        assertThat(db.one("SELECT email || ' ' || amount FROM orders_v2 WHERE order_id = 5"))
                .isEqualTo("u5@x.org 0.35");
        db.exec("UPDATE orders_v2 SET email = 'drifted' WHERE order_id = 77");
        // Copying again repairs what differs or is missing; it never deletes, so the extra row stays reported.
        Cli.Result again = Cli.run(args("run", "orders-copy", "--again"));
        assertThat(again.exitCode()).isEqualTo(3);
        assertThat(again.out())
                .containsPattern("extra in target\\s+2 mismatches")
                .containsPattern("different values\\s+0 mismatches");
        db.exec("DELETE FROM orders_v2 WHERE order_id IN (200, 20000)");
        assertThat(Cli.run(args("validate", "orders-copy")).exitCode()).isZero();
        assertThat(db.one("SELECT email FROM orders_v2 WHERE order_id = 77")).isEqualTo("u77@x.org");
        assertThat(db.count("SELECT count(*) FROM orders_v2 WHERE order_id = 100"))
                .isEqualTo(1);

        db.exec("CREATE TABLE no_key (order_id bigint, email text)");
        writeSpec("bad-copy", "table: orders\nkey: [id]\ninto: no_key\ncolumns: { order_id: id, email: email }\n");
        Cli.Result bad = Cli.run(args("run", "bad-copy"));
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains("into: public.no_key has no unique index on (order_id)");
        writeSpec(
                "bad-column",
                "table: orders\nkey: [id]\ninto: orders_v2\ncolumns: { order_id: id, amount: lower(email) }\n");
        assertThat(Cli.run(args("run", "bad-column")).err())
                .contains("columns.amount: column \"amount\" is of type numeric but expression is of type text");
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void aJavaTransformerJobKilledWithSigkillResumesToTheSameResultAsOneRun() throws Exception {
        db.exec(
                "CREATE TABLE counters (id bigint PRIMARY KEY, n bigint NOT NULL DEFAULT 0)",
                "INSERT INTO counters (id) SELECT g FROM generate_series(1, 100000) g",
                "ANALYZE counters");
        writeSpec("java-increment", """
                table: counters
                key: [id]
                transformer: increment
                chunk: { rows: 250, min-rows: 250, max-rows: 250 }
                """);
        Backfill backfill = new Backfill(ds);
        int kills = Kills.repeatedly(
                dir,
                args("run", "java-increment"),
                backfill,
                "java-increment",
                5,
                40,
                (kill, status) -> assertThat(db.count("SELECT count(*) FROM counters WHERE n = 1"))
                        .isEqualTo(status.rowsProcessed()));
        assertThat(kills).isGreaterThanOrEqualTo(5);
        assertThat(Cli.run(args("run", "java-increment")).exitCode()).isZero();
        assertThat(db.count("SELECT count(*) FROM counters WHERE n <> 1")).isZero();
    }
}
