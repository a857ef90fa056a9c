package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Eventually;
import dev.sluice.engine.testing.Postgres;
import dev.sluice.engine.testing.RestartableServer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A primary restarted under a running job, twice ({@code pg_ctl restart -m immediate}: every backend killed at once,
 * the runner lock's session with them): the runner, a real JVM of its own, reconnects, takes its lock again and
 * continues from its last committed checkpoint. A non-idempotent job ({@code n = n + 1}) shows every row applied
 * exactly once; the operator sees one line per reconnect and no stack trace.
 */
class ServerRestartTest {

    private static final int ROWS = 60_000;

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void ridesThroughTwoRestartsApplyingEveryRowExactlyOnce() throws Exception {
        try (RestartableServer server = RestartableServer.start()) {
            String url = server.createDatabase("app");
            Path spec = dir.resolve("increment.yml");
            Files.writeString(spec, """
                    name: increment
                    table: counters
                    key: [id]
                    set: { n: n + 1 }
                    chunk: { rows: 500, min-rows: 500, max-rows: 500 }
                    throttle: { rows-per-second: 5000 }
                    """);
            try (HikariDataSource ds = Postgres.dataSource(url)) {
                new Db(ds).counters("counters", ROWS);
            }
            Path log = dir.resolve("runner.log");
            Process runner = Cli.spawn(log, "run", spec.toString(), "--jdbc-url", url, "--user", "postgres");
            try {
                for (int restart = 1; restart <= 2; restart++) {
                    awaitChunks(url, restart * 20L, runner, log);
                    server.restartImmediately();
                }
                assertThat(runner.waitFor(3, TimeUnit.MINUTES))
                        .as("runner finished")
                        .isTrue();
            } finally {
                runner.destroyForcibly();
            }
            String output = Files.readString(log);
            assertThat(runner.exitValue()).as(output).isZero();
            assertThat(output.lines().filter(l -> l.contains("reconnecting")).count())
                    .as(output)
                    .isBetween(2L, 4L);
            assertThat(output).as(output).doesNotContain("Exception").doesNotContainPattern("(?m)^\\s+at ");
            try (HikariDataSource ds = Postgres.dataSource(url)) {
                Db db = new Db(ds);
                assertThat(db.count("SELECT count(*) FROM counters WHERE n = 1"))
                        .isEqualTo(ROWS);
                assertThat(db.count("SELECT count(*) FROM counters WHERE n <> 1"))
                        .isZero();
            }
        }
    }

    /** Waits until the job has committed {@code chunks} chunks, reading its status as the server allows. */
    private static void awaitChunks(String url, long chunks, Process runner, Path log) throws Exception {
        try (HikariDataSource ds = Postgres.dataSource(url)) {
            Backfill backfill = new Backfill(ds);
            // Reads fail while the server restarts: Eventually counts them as not yet.
            Eventually.eventually(
                    Duration.ofSeconds(90),
                    chunks + " chunks",
                    () -> backfill.status("increment").chunks() >= chunks || !runner.isAlive());
        }
        assertThat(runner.isAlive()).as(Files.readString(log)).isTrue();
    }
}
