package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Eventually;
import dev.sluice.engine.testing.Postgres;
import dev.sluice.engine.testing.RestartableServer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code workers: remote} with real processes: a runner and {@code sluice worker} JVMs of their own, on a server the
 * test restarts. A worker holding partitions is killed with SIGKILL mid-run and another is started; the server is then
 * restarted under them all ({@code pg_ctl restart -m immediate}: the workers are cut off). The runner completes, every
 * row of a non-idempotent {@code n = n + 1} applied exactly once, and nobody prints a stack trace.
 */
class WorkerProcessTest {

    private static final int ROWS = 60_000;

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void aKilledWorkersPartitionsGoToAnotherAndARestartIsRiddenThroughEachRowOnce() throws Exception {
        List<Process> processes = new ArrayList<>();
        try (RestartableServer server = RestartableServer.start()) {
            String url = server.createDatabase("app");
            Path spec = dir.resolve("increment.yml");
            Files.writeString(spec, """
                    name: increment
                    table: counters
                    key: [id]
                    set: { n: n + 1 }
                    parallel: 4
                    workers: remote
                    chunk: { rows: 500, min-rows: 500, max-rows: 500 }
                    throttle: { rows-per-second: 4000 }
                    validate-after-run: false
                    """);
            try (HikariDataSource ds = Postgres.dataSource(url)) {
                new Db(ds).counters("counters", ROWS);
            }
            Process first = worker(url, "first", processes);
            Process second = worker(url, "second", processes);
            Path runnerLog = dir.resolve("runner.log");
            Process runner = Cli.spawn(runnerLog, "run", spec.toString(), "--jdbc-url", url, "--user", "postgres");
            processes.add(runner);
            try (HikariDataSource ds = Postgres.dataSource(url)) {
                Db db = new Db(ds);
                Eventually.eventually(
                        Duration.ofSeconds(90),
                        "the first worker's chunks",
                        () -> db.count("SELECT count(*) FROM counters WHERE n = 1") > 5_000
                                && db.count("SELECT count(*) FROM sluice.partition_leases WHERE worker_pid = "
                                                + first.pid() + " AND heartbeat_at IS NOT NULL")
                                        > 0);
                first.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // SIGKILL
                worker(url, "third", processes);
                long before = db.count("SELECT count(*) FROM counters WHERE n = 1");
                Eventually.eventually(
                        Duration.ofSeconds(90),
                        "the killed worker's partitions taken again",
                        () -> db.count("SELECT count(*) FROM sluice.partition_leases WHERE sends > 1") > 0
                                && db.count("SELECT count(*) FROM counters WHERE n = 1") > before + 5_000);
            }
            server.restartImmediately();
            assertThat(runner.waitFor(4, TimeUnit.MINUTES))
                    .as("the runner finished")
                    .isTrue();
            String output = Files.readString(runnerLog);
            assertThat(runner.exitValue()).as(output).isZero();
            try (HikariDataSource ds = Postgres.dataSource(url)) {
                Db db = new Db(ds);
                assertThat(db.count("SELECT count(*) FROM counters WHERE n <> 1"))
                        .as("rows not applied exactly once")
                        .isZero();
            }
            for (String name : List.of("runner", "first", "second", "third")) {
                String log = Files.readString(dir.resolve(name + ".log"));
                assertThat(log).as(name + ": " + log).doesNotContainPattern("(?m)^\\s+at ");
            }
            assertThat(Files.readString(dir.resolve("second.log")) + Files.readString(dir.resolve("third.log")))
                    .as("the workers that lived took partitions")
                    .contains("taken");
            assertThat(output).as(output).contains("sent again").contains("reconnecting");
        } finally {
            for (Process p : processes) {
                p.destroyForcibly();
            }
        }
    }

    private Process worker(String url, String name, List<Process> processes) throws Exception {
        Process p = Cli.spawn(
                dir.resolve(name + ".log"), "worker", "--threads", "2", "--jdbc-url", url, "--user", "postgres");
        processes.add(p);
        return p;
    }
}
