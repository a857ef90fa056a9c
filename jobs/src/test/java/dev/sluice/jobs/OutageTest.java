package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Eventually;
import dev.sluice.engine.testing.Postgres;
import dev.sluice.engine.testing.RestartableServer;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The database goes away under a real runner (its own JVM) and comes back: a server stopped (a fast shutdown, as a
 * service manager stops it, or an immediate one, as a crash) for a random time at a random moment of the work, within
 * the reconnect limit or past it, under a backfill on one partition and on two, a validation and a rollback. Each
 * ends ridden through (exit 0), or FAILED and resumable (exit 1, one line, no stack trace), never stranded: the next
 * {@code resume} (or verb) finishes it, and every row is applied exactly once ({@code n = n + 1}) or restored exactly.
 * The runner says it lost the database within seconds of the stop.
 */
class OutageTest {

    private static final int ROWS = 24_000;
    private static final Duration RECONNECT = Duration.ofSeconds(10);
    // How long a loaded machine may take to notice (the goal is a few seconds: the figure is printed).
    private static final Duration NOTICED_WITHIN = Duration.ofSeconds(20);
    private static final long SEED = Long.getLong("outage.seed", System.nanoTime());

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}, parallel {1}, outage past the reconnect limit: {2}")
    @CsvSource({
        "run, 1, false",
        "run, 2, false",
        "validate, 1, false",
        "rollback, 1, false",
        "run, 2, true",
        "validate, 1, true",
        "rollback, 1, true"
    })
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void anOutageIsRiddenThroughOrLeavesTheWorkResumable(String verb, int parallel, boolean pastTheLimit)
            throws Exception {
        Random random = new Random(SEED + verb.hashCode() * 31L + parallel * 7L + (pastTheLimit ? 1 : 0));
        try (RestartableServer server = RestartableServer.start()) {
            String url = server.createDatabase("app");
            Path spec = dir.resolve("increment.yml");
            Files.writeString(spec, """
                    name: increment
                    table: counters
                    key: [id]
                    set: { n: n + 1 }
                    chunk: { rows: 300, min-rows: 300, max-rows: 300 }
                    throttle: { rows-per-second: 3000 }
                    parallel: %d
                    timeouts: { reconnect: %ds }
                    validate: [ { check: "n = 1" } ]
                    validate-after-run: false
                    """.formatted(parallel, RECONNECT.toSeconds()));
            try (HikariDataSource ds = Postgres.dataSource(url)) {
                new Db(ds).counters("counters", ROWS);
                if (!verb.equals("run")) {
                    // The work under test is the validation or the rollback of a finished backfill.
                    RunResult done = new Backfill(ds)
                            .run(
                                    SpecParser.parse(
                                            Files.readString(spec).replace("throttle: { rows-per-second: 3000 }", "")),
                                    RunOptions.defaults());
                    assertThat(done.outcome()).as(done.message()).isEqualTo(RunResult.Outcome.COMPLETED);
                }
            }
            String[] args = {verb, spec.toString(), "--jdbc-url", url, "--user", "postgres"};
            Path log = dir.resolve(verb + ".log");
            Process runner = Cli.spawn(log, args);
            try {
                long afterChunks = 3L + random.nextInt(25);
                awaitChunks(url, verb, afterChunks, runner, log);
                boolean immediate = random.nextBoolean();
                // Long enough to be noticed while the server is down; past the limit by more than a notice takes.
                long down = pastTheLimit
                        ? RECONNECT.toMillis() + 8000
                        : 6000 + random.nextInt((int) RECONNECT.toMillis() - 7000);
                System.out.printf(
                        "outage (seed %d): %s parallel %d after %d chunks, %s stop for %.1f s%n",
                        SEED, verb, parallel, afterChunks, immediate ? "an immediate" : "a fast", down / 1000.0);
                server.stop(immediate);
                long stopped = System.nanoTime();
                double noticed = firstLine(log, "lost the database", stopped, down);
                Thread.sleep(Math.max(0, down - (System.nanoTime() - stopped) / 1_000_000));
                server.startAgain();
                assertThat(runner.waitFor(3, TimeUnit.MINUTES))
                        .as("the runner ends")
                        .isTrue();
                String output = Files.readString(log);
                System.out.printf(
                        "  runner exit %d; it said it lost the database %.1f s after the stop%n",
                        runner.exitValue(), noticed);
                output.lines()
                        .filter(l -> l.contains("database") || l.contains("failed"))
                        .forEach(l -> System.out.println("  | " + l));
                assertThat(noticed)
                        .as("seconds until the runner said it lost the database\n" + output)
                        .isBetween(0.0, (double) NOTICED_WITHIN.toSeconds());
                assertThat(output).as(output).doesNotContain("Exception").doesNotContainPattern("(?m)^\\s+at ");
                if (pastTheLimit) {
                    assertThat(runner.exitValue()).as(output).isEqualTo(1);
                    assertThat(output)
                            .as(output)
                            .contains("could not reconnect within " + RECONNECT.toSeconds() + " s");
                } else {
                    assertThat(runner.exitValue()).as(output).isIn(0, 1);
                }
                if (runner.exitValue() != 0) {
                    // FAILED and resumable: the same verb (resume for the backfill) finishes it.
                    String[] again = verb.equals("run")
                            ? new String[] {"resume", spec.toString(), "--jdbc-url", url, "--user", "postgres"}
                            : args;
                    Path retry = dir.resolve(verb + "-again.log");
                    Process next = Cli.spawn(retry, again);
                    assertThat(next.waitFor(2, TimeUnit.MINUTES)).isTrue();
                    assertThat(next.exitValue()).as(Files.readString(retry)).isZero();
                }
            } finally {
                runner.destroyForcibly();
            }
            try (HikariDataSource ds = Postgres.dataSource(url)) {
                Db db = new Db(ds);
                int expected = verb.equals("rollback") ? 0 : 1;
                assertThat(db.count("SELECT count(*) FROM counters WHERE n <> " + expected))
                        .as("rows not applied once")
                        .isZero();
                JobStatus status = new Backfill(ds).status("increment");
                assertThat(status.state())
                        .isEqualTo(verb.equals("rollback") ? JobStatus.State.ROLLED_BACK : JobStatus.State.COMPLETED);
                if (verb.equals("validate")) {
                    assertThat(status.validation()).isNotNull();
                    assertThat(status.validation().complete()).isTrue();
                    assertThat(status.validation().mismatches()).isZero();
                }
            }
        }
    }

    /**
     * Seconds from {@code since} until {@code log} holds a line with {@code text}, or -1 if it has none within
     * {@code millis} of {@code since}.
     */
    private static double firstLine(Path log, String text, long since, long millis) throws Exception {
        long deadline = since + millis * 1_000_000;
        while (System.nanoTime() < deadline) {
            if (Files.readString(log).contains(text)) {
                return (System.nanoTime() - since) / 1e9;
            }
            Thread.sleep(50);
        }
        return -1;
    }

    /** Waits until the work under test has committed {@code chunks} chunks (its own, not the backfill's before it). */
    private static void awaitChunks(String url, String verb, long chunks, Process runner, Path log) throws Exception {
        try (HikariDataSource ds = Postgres.dataSource(url)) {
            Db db = new Db(ds);
            String job = verb.equals("run") ? "increment" : "increment." + verb;
            Eventually.eventually(
                    Duration.ofSeconds(90),
                    chunks + " chunks of " + job,
                    () -> !runner.isAlive()
                            || db.count("SELECT coalesce(sum(s.commit_count), 0) FROM"
                                            + " sluice.batch_step_execution s JOIN sluice.batch_job_execution e USING (job_execution_id)"
                                            + " JOIN sluice.batch_job_instance i USING (job_instance_id) WHERE i.job_name = '"
                                            + job
                                            + "' AND e.end_time IS NULL")
                                    >= chunks);
        }
        assertThat(runner.isAlive()).as(Files.readString(log)).isTrue();
    }
}
