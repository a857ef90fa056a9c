package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Eventually;
import dev.sluice.engine.testing.Postgres;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The heart of Sluice, tested the hard way: a real runner in its own JVM, killed with SIGKILL at random instants,
 * resumed each time; a non-idempotent transform ({@code n = n + 1}) shows every row applied exactly once.
 */
class KillAndResumeTest {

    private static final int ROWS = 200_000;

    @TempDir
    Path dir;

    private HikariDataSource ds;
    private Db db;
    private String url;
    private Path spec;

    @BeforeEach
    void seed() throws Exception {
        ds = Postgres.newDatabase();
        db = new Db(ds);
        url = ds.getJdbcUrl();
        db.exec(
                "CREATE TABLE counters (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0)",
                "INSERT INTO counters (id) SELECT g FROM generate_series(1, " + ROWS + ") g",
                "ANALYZE counters");
        spec = dir.resolve("increment.yml");
        Files.writeString(spec, """
                name: increment
                table: counters
                key: [id]
                set: { n: n + 1 }
                chunk: { rows: 250, min-rows: 250, max-rows: 250 }
                """);
    }

    @AfterEach
    void close() {
        ds.close();
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void resumesAfterKillWithoutReapplyingAChunk() throws Exception {
        String[] run = {"run", spec.toString(), "--jdbc-url", url, "--user", "postgres"};
        int kills = Kills.repeatedly(
                dir,
                run,
                new Backfill(ds),
                "increment",
                6,
                60,
                (kill, status) -> assertThat(db.count("SELECT count(*) FROM counters WHERE n = 1"))
                        .as("rows applied match the checkpoint")
                        .isEqualTo(status.rowsProcessed()));
        assertThat(kills).isGreaterThanOrEqualTo(5);

        Process last = Cli.spawn(dir.resolve("final.log"), run);
        assertThat(last.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(last.exitValue())
                .as(Files.readString(dir.resolve("final.log")))
                .isZero();

        assertThat(db.count("SELECT count(*) FROM counters WHERE n <> 1")).isZero();
        assertThat(db.count("SELECT sum(n) FROM counters")).isEqualTo(ROWS);
        assertThat(status().state()).isEqualTo(JobStatus.State.COMPLETED);
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void sigtermFinishesTheChunkStopsWithExitFiveAndResumesByName() throws Exception {
        Path log = dir.resolve("term.log");
        Process runner = Cli.spawn(log, "run", spec.toString(), "--jdbc-url", url, "--user", "postgres");
        Eventually.eventually(
                Duration.ofSeconds(90), "twenty chunks", () -> status().chunks() >= 20 || !runner.isAlive());
        assertThat(runner.isAlive()).as("runner made progress").isTrue();
        runner.destroy(); // SIGTERM
        assertThat(runner.waitFor(1, TimeUnit.MINUTES)).isTrue();
        assertThat(runner.exitValue()).as(Files.readString(log)).isEqualTo(5);
        assertThat(Files.readString(log)).contains("SIGTERM received: stopping after the current chunk");

        JobStatus stopped = status();
        assertThat(stopped.state()).isEqualTo(JobStatus.State.STOPPED);
        assertThat(db.count("SELECT count(*) FROM counters WHERE n = 1")).isEqualTo(stopped.rowsProcessed());

        // By name alone, from a directory without the spec: the recorded spec is used.
        Cli.Result resumed = Cli.run(
                "resume",
                "increment",
                "--config",
                Files.createDirectories(dir.resolve("empty")).toString(),
                "--jdbc-url",
                url,
                "--user",
                "postgres");
        assertThat(resumed.exitCode()).as(resumed.out() + resumed.err()).isZero();
        assertThat(db.count("SELECT count(*) FROM counters WHERE n <> 1")).isZero();
    }

    private JobStatus status() throws Exception {
        return new Backfill(ds).status("increment");
    }
}
