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

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fleet of three databases, canary first, through the command line. The canary finds a mismatch: the rollout halts
 * before the next wave (the other targets untouched: no job, no row written) and {@code require --fleet} exits 4.
 * Fixed, {@code resume --fleet} goes on, in a runner of its own that is SIGKILLed while the second wave runs; {@code
 * resume --fleet} again completes it: every row of a non-idempotent {@code n = n + 1} applied exactly once on every
 * target, {@code require --fleet} exits 0, status shows a line per target and the totals.
 */
class FleetTest {

    private static final int ROWS = 6_000;

    @TempDir
    Path dir;

    private final List<HikariDataSource> targets = new ArrayList<>();

    @AfterEach
    void close() {
        targets.forEach(HikariDataSource::close);
    }

    private Cli.Result sluice(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--config", dir.toString(), "--user", "postgres"));
        return Cli.run(all.toArray(String[]::new));
    }

    private long rows(int target, String where) {
        return new Db(targets.get(target)).count("SELECT count(*) FROM t WHERE " + where);
    }

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void aHaltedCanaryThenAKilledRunnerTheRolloutCompletesEachRowOnceOnEveryTarget() throws Exception {
        StringBuilder fleet = new StringBuilder("name: three\ntargets:\n");
        for (int i = 1; i <= 3; i++) {
            HikariDataSource ds = Postgres.newDatabase();
            targets.add(ds);
            new Db(ds).counters("t", ROWS);
            fleet.append("  - { name: db-")
                    .append(i)
                    .append(", jdbc-url: \"")
                    .append(ds.getJdbcUrl())
                    .append("\" }\n");
        }
        fleet.append("rollout: { canary: 1, waves: [100%] }\nconcurrency: 2\n");
        Files.createDirectories(dir.resolve("fleets"));
        Files.createDirectories(dir.resolve("jobs"));
        Files.writeString(dir.resolve("fleets/three.yml"), fleet.toString());
        Files.writeString(dir.resolve("jobs/inc.yml"), """
                name: inc
                table: t
                key: [id]
                set: { n: n + 1 }
                chunk: { rows: 200, min-rows: 200, max-rows: 200 }
                throttle: { rows-per-second: 1500 }
                validate: [ { check: "n = 1" } ]
                """);
        new Db(targets.get(0)).exec("UPDATE t SET n = 5 WHERE id = 7"); // the canary's validation will find it

        Cli.Result halted = sluice("run", "inc", "--fleet", "three");
        assertThat(halted.exitCode()).as(halted.out() + halted.err()).isEqualTo(3);
        assertThat(halted.err()).contains("halted at target db-1");
        for (int i = 1; i < 3; i++) {
            assertThat(rows(i, "n <> 0")).as("target %d untouched", i + 1).isZero();
            assertThat(new Db(targets.get(i)).exists("sluice.batch_job_instance"))
                    .as("no job recorded on target %d", i + 1)
                    .isFalse();
        }
        Cli.Result notDone = sluice("require", "inc", "--fleet", "three");
        assertThat(notDone.exitCode()).as(notDone.out() + notDone.err()).isEqualTo(4);

        new Db(targets.get(0)).exec("UPDATE t SET n = 1 WHERE id = 7"); // the fix
        Path log = dir.resolve("runner.log");
        Process runner =
                Cli.spawn(log, "resume", "inc", "--fleet", "three", "--config", dir.toString(), "--user", "postgres");
        try {
            Eventually.eventually(
                    Duration.ofSeconds(90),
                    "the second wave under way",
                    () -> rows(1, "n = 1") + rows(2, "n = 1") > 1_000 || !runner.isAlive());
            assertThat(runner.isAlive()).as(Files.readString(log)).isTrue();
            runner.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // SIGKILL mid-rollout
        } finally {
            runner.destroyForcibly();
        }
        assertThat(rows(1, "n = 1") + rows(2, "n = 1"))
                .as("killed before the end")
                .isLessThan(2L * ROWS);

        Cli.Result resumed = sluice("resume", "inc", "--fleet", "three");
        assertThat(resumed.exitCode()).as(resumed.out() + resumed.err()).isZero();
        assertThat(resumed.out()).contains("completed: 3 targets done");
        for (int i = 0; i < 3; i++) {
            assertThat(rows(i, "n <> 1"))
                    .as("target %d: rows not applied exactly once", i + 1)
                    .isZero();
        }
        Cli.Result done = sluice("require", "inc", "--fleet", "three");
        assertThat(done.exitCode()).as(done.out() + done.err()).isZero();
        Cli.Result status = sluice("status", "inc", "--fleet", "three");
        assertThat(status.exitCode()).as(status.err()).isZero();
        assertThat(status.out())
                .contains("rollout COMPLETED")
                .containsPattern("db-1 +1 +COMPLETED +COMPLETED")
                .containsPattern("db-3 +2 +COMPLETED +COMPLETED")
                .contains("3 of 3 targets done, 18,000/");
        Cli.Result json = sluice("status", "inc", "--fleet", "three", "--json");
        assertThat(json.out().lines()).hasSize(4).allMatch(l -> l.contains("\"fleet\":\"three\""));
        assertThat(Files.readString(log)).doesNotContainPattern("(?m)^\\s+at ");
    }
}
