package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Postgres;
import dev.sluice.jobs.demo.EmbeddedServer;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server older than Sluice works on (PostgreSQL 13: no {@code hash_record_extended}, which the journal hashes with)
 * is refused by every verb that would write, exit 2, before anything is written: no job repository, no job row, no
 * row changed. (Before, {@code plan} passed and {@code run} recorded the job and failed in its first chunk.) The
 * build copies the 13 binaries to {@code target/postgres-13}.
 */
class OldServerTest {

    private static EmbeddedPostgres pg;
    private static Db db;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws IOException {
        Path dir = Path.of("target", "postgres-13");
        Assumptions.assumeTrue(
                Files.isDirectory(dir),
                "PostgreSQL 13's binaries: the build copies them to jobs/target/postgres-13 on linux-amd64 (the only"
                        + " platform zonky publishes 13.22 for); run the jobs module's tests with Maven");
        Path jar;
        try (Stream<Path> jars = Files.list(dir)) {
            jar = jars.filter(p -> p.toString().endsWith(".jar")).findFirst().orElseThrow();
        }
        pg = EmbeddedServer.start(EmbeddedPostgres.builder()
                .setPgBinaryResolver((system, hardware) -> EmbeddedServer.binaries(jar, system, hardware)));
        db = new Db(pg.getPostgresDatabase());
        db.exec(
                "CREATE TABLE orders (id bigint PRIMARY KEY, email text NOT NULL, email_lower text)",
                "INSERT INTO orders SELECT g, 'User' || g || '@Example.com', NULL FROM generate_series(1, 3000) g");
    }

    @AfterAll
    static void stop() throws IOException {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void everyVerbThatWouldWriteIsRefusedAndNothingIsWritten() throws IOException {
        assertThat(db.one("SHOW server_version")).startsWith("13.");
        Files.createDirectories(dir.resolve("jobs"));
        Files.writeString(
                dir.resolve("jobs/orders-email.yml"),
                "name: orders-email\ntable: orders\nkey: [id]\nset: { email_lower: lower(email) }\n");
        String url = pg.getJdbcUrl("postgres", "postgres");
        for (List<String> verb : List.of(
                List.of("plan", "orders-email"),
                List.of("run", "orders-email"),
                List.of("run", "orders-email", "--dry-run"),
                List.of("validate", "orders-email"))) {
            Cli.Result r = Cli.run(Cli.against(dir, url, verb.toArray(String[]::new)));
            assertThat(r.exitCode()).as(verb + ": " + r.out() + r.err()).isEqualTo(2);
            assertThat(r.err().strip())
                    .as(verb.toString())
                    .matches("sluice: database jdbc:postgresql://\\S+ runs PostgreSQL 13\\.\\d+; Sluice needs"
                            + " PostgreSQL 14 or newer \\(tested on 14 to 18\\)");
        }
        Cli.Result bench = Cli.run("bench", "--jdbc-url", url, "--user", "postgres", "--rows", "1000");
        assertThat(bench.exitCode()).as(bench.out() + bench.err()).isEqualTo(2);
        assertThat(bench.err()).contains("sluice: --jdbc-url: database ").contains("runs PostgreSQL 13.");

        assertThat(db.count("SELECT count(*) FROM pg_namespace WHERE nspname = 'sluice'"))
                .isZero();
        assertThat(db.count("SELECT count(*) FROM pg_class WHERE relname LIKE 'bench%'"))
                .isZero();
        assertThat(db.count("SELECT count(*) FROM orders WHERE email_lower IS NOT NULL"))
                .isZero();
    }

    /** A copy from another database reads its source with the same statements: a 13 source is refused alike. */
    @Test
    void aCopyFromAnOlderServerIsRefusedAndNothingIsWrittenToItsTarget() throws IOException {
        try (HikariDataSource target = Postgres.newDatabase()) {
            Db targetDb = new Db(target);
            targetDb.exec("CREATE TABLE orders_v2 (order_id bigint PRIMARY KEY, email text)");
            Files.createDirectories(dir.resolve("jobs"));
            Files.writeString(dir.resolve("jobs/cross.yml"), """
                    name: cross
                    source: { jdbc-url: "%s" }
                    table: orders
                    key: [id]
                    into: orders_v2
                    columns: { order_id: id, email: lower(email) }
                    """.formatted(pg.getJdbcUrl("postgres", "postgres")));
            for (String verb : List.of("plan", "run")) {
                Cli.Result r = Cli.run(Cli.against(dir, target.getJdbcUrl(), verb, "cross"));
                assertThat(r.exitCode()).as(verb + ": " + r.out() + r.err()).isEqualTo(2);
                assertThat(r.err().strip())
                        .as(verb)
                        .matches("sluice: source.jdbc-url: database jdbc:postgresql://\\S+ runs PostgreSQL 13\\.\\d+;"
                                + " Sluice needs PostgreSQL 14 or newer \\(tested on 14 to 18\\)");
            }
            assertThat(targetDb.count("SELECT count(*) FROM orders_v2")).isZero();
            assertThat(targetDb.exists("sluice.batch_job_instance")).isFalse();
            assertThat(db.count("SELECT count(*) FROM pg_namespace WHERE nspname = 'sluice'"))
                    .isZero();
        }
    }
}
