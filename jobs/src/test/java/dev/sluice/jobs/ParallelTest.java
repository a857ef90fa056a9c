package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.ChunkObserver;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.StopSignal;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.Eventually;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code parallel: N}: key-range partitions worked at once, each with its own checkpoint. The key is composite and
 * text, its first column in an ICU collation (which orders 'alpha' before 'Beta', unlike C), and the transform is
 * not idempotent ({@code n = n + 1}): a range cut in the wrong order, a partition walking past its end, or a
 * partition re-run after it completed would show as a row with n = 0 or n = 2.
 */
class ParallelTest extends CliDatabaseTest {

    private static final int ROWS = 60_000;

    @BeforeEach
    void seed() throws Exception {
        db.exec(
                "CREATE TABLE acct (region text COLLATE \"en-US-x-icu\" NOT NULL, handle text COLLATE \"C\" NOT NULL,"
                        + " n int NOT NULL DEFAULT 0, PRIMARY KEY (region, handle))",
                "INSERT INTO acct (region, handle) SELECT (ARRAY['alpha', 'Beta', 'émile', 'Zeta', 'zulu', 'Ärger'])"
                        + "[1 + g % 6], 'h' || (g * 7919 % " + ROWS + ") FROM generate_series(0, " + (ROWS - 1) + ") g",
                "ANALYZE acct");
    }

    private void spec(int parallel, String extra) throws Exception {
        writeSpec("inc", """
                table: acct
                key: [region, handle]
                set: { n: n + 1 }
                chunk: { rows: 200, min-rows: 200, max-rows: 200 }
                parallel: %d
                %s""".formatted(parallel, extra));
    }

    private JobStatus status() throws Exception {
        return new Backfill(ds).status("inc");
    }

    private void assertEveryRowOnce() {
        assertThat(db.count("SELECT count(*) FROM acct WHERE n <> 1"))
                .as("rows not applied exactly once")
                .isZero();
        assertThat(db.count("SELECT sum(n) FROM acct")).isEqualTo(ROWS);
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void threePartitionsKilledThreeTimesApplyEveryRowExactlyOnce() throws Exception {
        // Throttled (shared by the partitions: 60,000 rows take at least 3 s), so that the third kill, at most 120
        // chunks in, lands well before the end even when the machine is slow to report the goal chunk.
        spec(3, "throttle: { rows-per-second: 20000 }");
        String[] run = args("run", "inc");
        int kills = Kills.repeatedly(dir, run, new Backfill(ds), "inc", 3, 40, (kill, status) -> {
            assertThat(db.count("SELECT count(*) FROM acct WHERE n > 1"))
                    .as("a row applied twice")
                    .isZero();
            assertThat(db.count("SELECT count(*) FROM acct WHERE n = 1"))
                    .as("rows applied match the checkpoints")
                    .isEqualTo(status.rowsProcessed());
            assertThat(status.partitions()).hasSize(3);
            assertThat(status.partitions().stream()
                            .mapToLong(JobStatus.Partition::rows)
                            .sum())
                    .isEqualTo(status.rowsProcessed());
        });
        assertThat(kills).isEqualTo(3);

        Process last = Cli.spawn(dir.resolve("final.log"), run);
        assertThat(last.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(last.exitValue())
                .as(Files.readString(dir.resolve("final.log")))
                .isZero();
        assertEveryRowOnce();
        JobStatus done = status();
        assertThat(done.state()).isEqualTo(JobStatus.State.COMPLETED);
        assertThat(done.rowsProcessed()).isEqualTo(ROWS);
        assertThat(done.partitions()).extracting(JobStatus.Partition::state).containsOnly("COMPLETED");
        // Ranges follow one another: each begins where the one before it ends, the first at the start, the last open.
        List<JobStatus.Partition> parts = done.partitions();
        assertThat(parts.get(0).from()).isEmpty();
        assertThat(parts.get(parts.size() - 1).to()).isEmpty();
        for (int i = 1; i < parts.size(); i++) {
            assertThat(parts.get(i).from()).isEqualTo(parts.get(i - 1).to());
        }
        // Cut from the key's distribution: no partition holds more than twice its share.
        assertThat(parts).allSatisfy(p -> assertThat(p.rows()).isLessThan(2L * ROWS / 3));

        Cli.Result json = Cli.run(args("status", "inc", "--json"));
        assertThat(json.out()).contains("\"partitions\":[{\"name\":\"backfill:1.0\",\"from\":null");
    }

    /** Stops a library run once {@code chunks} chunks of this run have committed. */
    private RunResult runStoppingAfter(int parallel, long chunks) throws Exception {
        spec(parallel, "");
        StopSignal stop = new StopSignal();
        AtomicLong seen = new AtomicLong();
        ChunkObserver stopper = report -> {
            if (seen.incrementAndGet() >= chunks) {
                stop.request("stopped by the test");
            }
        };
        return new Backfill(ds)
                .run(
                        SpecParser.read(dir.resolve("jobs/inc.yml")),
                        RunOptions.defaults().withStop(stop).withObserver(stopper));
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void parallelMayChangeBetweenRunsOfAnUnfinishedJob() throws Exception {
        RunResult first = runStoppingAfter(3, 30);
        assertThat(first.outcome()).as(first.message()).isEqualTo(RunResult.Outcome.STOPPED);
        JobStatus paused = status();
        assertThat(paused.partitions()).hasSize(3);
        assertThat(db.count("SELECT count(*) FROM acct WHERE n = 1")).isEqualTo(paused.rowsProcessed());

        // Fewer: what the three partitions left is worked two at a time.
        RunResult second = runStoppingAfter(2, 30);
        assertThat(second.outcome()).as(second.message()).isEqualTo(RunResult.Outcome.STOPPED);
        assertThat(db.count("SELECT count(*) FROM acct WHERE n > 1")).isZero();
        assertThat(db.count("SELECT count(*) FROM acct WHERE n = 1")).isEqualTo(status().rowsProcessed());

        // More: the remaining ranges are cut again into five.
        spec(5, "");
        RunResult last = new Backfill(ds).run(SpecParser.read(dir.resolve("jobs/inc.yml")), RunOptions.defaults());
        assertThat(last.outcome()).as(last.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertEveryRowOnce();
        JobStatus done = status();
        assertThat(done.rowsProcessed()).isEqualTo(ROWS);
        assertThat(done.partitions().size()).isGreaterThanOrEqualTo(5);
        assertThat(done.partitions()).extracting(JobStatus.Partition::name).anyMatch(n -> n.startsWith("backfill:3."));

        // And back to one: a finished job stays finished.
        spec(1, "");
        assertThat(new Backfill(ds)
                        .run(SpecParser.read(dir.resolve("jobs/inc.yml")), RunOptions.defaults())
                        .outcome())
                .isEqualTo(RunResult.Outcome.ALREADY_COMPLETE);
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void thePlanOutlivesARunnerKilledBeforeThePartitionStepsOwnContextWasSaved() throws Exception {
        RunResult stopped = runStoppingAfter(3, 20);
        assertThat(stopped.outcome()).as(stopped.message()).isEqualTo(RunResult.Outcome.STOPPED);
        // On a restart Spring Batch stores the partition step's new execution with an empty context: a runner killed
        // before the split saved anything leaves exactly this behind. The plan must not depend on it.
        db.exec("DELETE FROM sluice.batch_step_execution_context WHERE step_execution_id IN"
                + " (SELECT step_execution_id FROM sluice.batch_step_execution WHERE step_name = 'backfill')");
        spec(5, "");
        RunResult last = new Backfill(ds).run(SpecParser.read(dir.resolve("jobs/inc.yml")), RunOptions.defaults());
        assertThat(last.outcome()).as(last.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertEveryRowOnce();
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aPartitionThatFailsForGoodStopsTheOthersAndTheJobResumes() throws Exception {
        // The refused row lies halfway through the first of the three ranges: the other two are about halfway too
        // when it fails, and would run to their end if nothing stopped them.
        String region = db.one("SELECT region FROM acct ORDER BY region, handle OFFSET 10000 LIMIT 1");
        String handle = db.one("SELECT handle FROM acct ORDER BY region, handle OFFSET 10000 LIMIT 1");
        db.exec(
                "CREATE TABLE armed (on_ boolean)",
                "INSERT INTO armed VALUES (true)",
                """
                CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF NEW.region = '%s' AND NEW.handle = '%s' AND (SELECT on_ FROM armed) THEN
                    RAISE EXCEPTION 'a row refused' USING ERRCODE = 'P0001';
                  END IF;
                  RETURN NEW;
                END $$""".formatted(region, handle),
                "CREATE TRIGGER refuse BEFORE UPDATE ON acct FOR EACH ROW EXECUTE FUNCTION refuse()");
        spec(3, "throttle: { rows-per-second: 20000 }\n");
        Backfill backfill = new Backfill(ds);
        RunResult failed = backfill.run(SpecParser.read(dir.resolve("jobs/inc.yml")), RunOptions.defaults());
        assertThat(failed.outcome()).as(failed.message()).isEqualTo(RunResult.Outcome.FAILED);
        assertThat(failed.message()).contains("a row refused");
        JobStatus status = status();
        assertThat(status.state()).isEqualTo(JobStatus.State.FAILED);
        assertThat(status.lastError()).contains("a row refused");
        assertThat(status.partitions())
                .extracting(JobStatus.Partition::state)
                .as("the others stopped after their chunk")
                .containsExactlyInAnyOrder("FAILED", "STOPPED", "STOPPED");
        assertThat(db.count("SELECT count(*) FROM acct WHERE n = 1")).isEqualTo(status.rowsProcessed());

        db.exec("UPDATE armed SET on_ = false");
        RunResult resumed = backfill.run(SpecParser.read(dir.resolve("jobs/inc.yml")), RunOptions.defaults());
        assertThat(resumed.outcome()).as(resumed.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertEveryRowOnce();
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aParallelRunIsJournaledAndRolledBack() throws Exception {
        db.exec("UPDATE acct SET n = 5 WHERE handle LIKE 'h1%'");
        RunResult stopped = runStoppingAfter(3, 40);
        assertThat(stopped.outcome()).as(stopped.message()).isEqualTo(RunResult.Outcome.STOPPED);
        spec(2, "");
        Backfill backfill = new Backfill(ds);
        assertThat(backfill.run(SpecParser.read(dir.resolve("jobs/inc.yml")), RunOptions.defaults())
                        .outcome())
                .isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.count("SELECT count(*) FROM acct WHERE n NOT IN (1, 6)")).isZero();
        assertThat(status().undo().rows()).isEqualTo(ROWS);

        RunResult rolledBack = backfill.rollback("inc", RunOptions.defaults(), false);
        assertThat(rolledBack.outcome()).as(rolledBack.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.count("SELECT count(*) FROM acct WHERE n = 5"))
                .isEqualTo(db.count("SELECT count(*) FROM acct WHERE handle LIKE 'h1%'"));
        assertThat(db.count("SELECT count(*) FROM acct WHERE n <> 0 AND handle NOT LIKE 'h1%'"))
                .isZero();
        assertThat(status().state()).isEqualTo(JobStatus.State.ROLLED_BACK);
    }

    private Process runner(String log) throws Exception {
        Process p = Cli.spawn(dir.resolve(log), args("run", "inc"));
        JobStatus s = Eventually.eventually(
                Duration.ofSeconds(60),
                "the partitions at work",
                this::status,
                x -> (x.chunks() >= 6 && x.running()) || !p.isAlive());
        assertThat(p.isAlive()).as("runner alive: " + s).isTrue();
        return p;
    }

    /**
     * Runs the job in three throttled partitions in a JVM of its own, sends {@code verb} (pause, cancel) from another
     * process, and returns the status once the runner has exited 5, after checking that the rows written match the
     * partitions' checkpoints and that nothing is written afterwards.
     */
    private JobStatus stoppedFromAnotherProcess(String verb) throws Exception {
        spec(3, "throttle: { rows-per-second: 4000 }\n");
        Process runner = runner(verb + ".log");
        Cli.Result sent = Cli.run(args(verb, "inc"));
        assertThat(sent.exitCode()).as(sent.err()).isZero();
        assertThat(runner.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(runner.exitValue())
                .as(Files.readString(dir.resolve(verb + ".log")))
                .isEqualTo(5);
        JobStatus stopped = status();
        assertThat(stopped.partitions())
                .hasSize(3)
                .extracting(JobStatus.Partition::state)
                .as("in the job's words")
                .containsOnly(stopped.state().name());
        long applied = db.count("SELECT count(*) FROM acct WHERE n = 1");
        assertThat(applied).isEqualTo(stopped.rowsProcessed()).isLessThan(ROWS);
        Thread.sleep(500);
        assertThat(db.count("SELECT count(*) FROM acct WHERE n = 1"))
                .as("no partition still writing")
                .isEqualTo(applied);
        return stopped;
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void pauseReachesEveryPartitionAndResumeFinishes() throws Exception {
        assertThat(stoppedFromAnotherProcess("pause").state()).isEqualTo(JobStatus.State.PAUSED);
        Cli.Result tune = Cli.run(args("tune", "inc", "--rows-per-second", "0"));
        assertThat(tune.exitCode()).as(tune.err()).isZero();
        Cli.Result resumed = Cli.run(args("resume", "inc"));
        assertThat(resumed.exitCode()).as(resumed.out() + resumed.err()).isZero();
        assertEveryRowOnce();
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void cancelReachesEveryPartition() throws Exception {
        assertThat(stoppedFromAnotherProcess("cancel").state()).isEqualTo(JobStatus.State.CANCELLED);
        assertThat(Cli.run(args("resume", "inc")).exitCode()).isEqualTo(4);
    }
}
