package dev.sluice.jobs.serve;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Eventually;
import dev.sluice.engine.testing.Postgres;
import dev.sluice.jobs.cli.SluiceCommand;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** SIGTERM to a real {@code sluice serve} process: running chunks finish, jobs are STOPPED, resumable. */
class ServeShutdownTest {

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void sigtermFinishesTheChunkAndLeavesTheJobStopped() throws Exception {
        try (HikariDataSource ds = Postgres.newDatabase()) {
            Db db = new Db(ds);
            db.counters("g", 60000);
            Files.createDirectories(dir.resolve("jobs"));
            Files.writeString(dir.resolve("jobs/graceful.yml"), """
                    name: graceful
                    table: g
                    key: [id]
                    set: { n: n + 1 }
                    chunk: { rows: 500, min-rows: 500, max-rows: 500 }
                    throttle: { rows-per-second: 3000 }
                    schedule: { cron: "* * * * * *" }
                    """);
            Path log = dir.resolve("serve.log");
            Process serve = new ProcessBuilder(
                            Path.of(System.getProperty("java.home"), "bin", "java")
                                    .toString(),
                            "-Xmx384m",
                            "-cp",
                            System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                            SluiceCommand.class.getName(),
                            "serve",
                            "--port",
                            "0",
                            "--config",
                            dir.toString(),
                            "--jdbc-url",
                            ds.getJdbcUrl(),
                            "--user",
                            "postgres")
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            Backfill backfill = new Backfill(ds);
            Eventually.eventually(
                    java.time.Duration.ofSeconds(90),
                    "serve running the job",
                    () -> backfill.status("graceful").chunks() >= 4 || !serve.isAlive());
            assertThat(serve.isAlive()).as(Files.readString(log)).isTrue();
            serve.destroy(); // SIGTERM
            assertThat(serve.waitFor(90, TimeUnit.SECONDS)).isTrue();

            JobStatus stopped = backfill.status("graceful");
            assertThat(stopped.state()).as(Files.readString(log)).isEqualTo(JobStatus.State.STOPPED);
            assertThat(stopped.running()).isFalse();
            assertThat(db.count("SELECT count(*) FROM g WHERE n = 1")).isEqualTo(stopped.rowsProcessed());
            assertThat(db.count("SELECT count(*) FROM g WHERE n > 1")).isZero();
        }
    }
}
