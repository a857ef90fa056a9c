package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Postgres;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/** Validation and repair from the command line, as the acceptance describes them. */
class ValidateCliTest {

    @TempDir
    Path dir;

    private HikariDataSource ds;
    private Db db;

    @BeforeEach
    void seed() throws Exception {
        ds = Postgres.newDatabase();
        db = new Db(ds);
        db.exec(
                "CREATE TABLE orders (id bigint PRIMARY KEY, email text NOT NULL, email_lower text)",
                "INSERT INTO orders SELECT g, 'Customer' || g || '@Example.COM', NULL FROM generate_series(1, 20000) g",
                "ANALYZE orders");
        Files.createDirectories(dir.resolve("jobs"));
        Files.writeString(dir.resolve("jobs/orders-email-lower.yml"), """
                name: orders-email-lower
                table: public.orders
                key: [id]
                where: "email_lower IS NULL"
                set: { email_lower: lower(email) }
                chunk: { rows: 2000 }
                validate:
                  - { target: email_lower, source: lower(email) }
                """);
        Files.writeString(dir.resolve("jobs/wrong-case.yml"), """
                name: wrong-case
                table: public.orders
                key: [id]
                set: { email_lower: upper(email) }
                validate:
                  - { target: email_lower, source: lower(email) }
                """);
    }

    @AfterEach
    void close() {
        ds.close();
    }

    private Cli.Result sluice(String... args) {
        return Cli.run(Cli.against(dir, ds.getJdbcUrl(), args));
    }

    @Test
    void reportsExactlyThePlantedMismatchesAndRepairMakesItClean() {
        Cli.Result run = sluice("run", "orders-email-lower");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("validation clean");

        db.exec("UPDATE orders SET email_lower = 'planted-' || id WHERE id % 20 = 0"); // 1,000 rows
        Cli.Result found = sluice("validate", "orders-email-lower");
        assertThat(found.exitCode()).isEqualTo(3);
        assertThat(found.out())
                .contains("20,000 rows checked")
                .contains("email_lower              1,000 mismatches")
                .contains("key 20: target 'planted-20', source 'customer20@example.com'");

        Cli.Result json = sluice("validate", "orders-email-lower", "--json");
        assertThat(json.exitCode()).isEqualTo(3);
        Map<String, Object> report = JsonMapper.builder().build().readValue(json.out(), new TypeReference<>() {});
        assertThat(report)
                .containsEntry("mismatches", 1000)
                .containsEntry("rowsChecked", 20000)
                .containsEntry("clean", false);

        Cli.Result status = sluice("status", "orders-email-lower");
        assertThat(status.out()).contains("FAILED").contains("validation found 1,000 mismatches");
        assertThat(sluice("run", "orders-email-lower").exitCode())
                .as("complete, but not clean")
                .isEqualTo(3);

        Cli.Result repair = sluice("run", "orders-email-lower", "--only-mismatched");
        assertThat(repair.exitCode()).as(repair.out() + repair.err()).isZero();
        assertThat(sluice("validate", "orders-email-lower").exitCode()).isZero();
        assertThat(sluice("status", "orders-email-lower").out())
                .contains("COMPLETED")
                .contains("0 mismatches");
        assertThat(db.count("SELECT count(*) FROM orders WHERE email_lower IS DISTINCT FROM lower(email)"))
                .isZero();
    }

    @Test
    void aRunWhoseResultFailsValidationExitsThree() {
        Cli.Result run = sluice("run", "wrong-case");
        assertThat(run.exitCode()).isEqualTo(3);
        assertThat(run.out()).contains("validation found 20,000 mismatches");
    }

    @Test
    void aRuleThatDoesNotTypeCheckIsRefusedBeforeAnythingIsWritten() throws Exception {
        Files.writeString(dir.resolve("jobs/bad-rule.yml"), """
                name: bad-rule
                table: public.orders
                key: [id]
                set: { email_lower: lower(email) }
                validate:
                  - { target: email_lower, source: length(email) }
                """);
        Cli.Result run = sluice("run", "bad-rule");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).startsWith("sluice: validate[0].source: operator does not exist: text = integer");
        assertThat(db.count("SELECT count(*) FROM orders WHERE email_lower IS NOT NULL"))
                .isZero();
    }
}
