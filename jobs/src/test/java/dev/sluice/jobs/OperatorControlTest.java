package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.testing.Eventually;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/** pause, cancel and tune from another process, obeyed by a runner in its own JVM within a chunk. */
class OperatorControlTest extends CliDatabaseTest {

    @BeforeEach
    void seed() throws Exception {
        db.counters("c", 30000);
        Files.writeString(dir.resolve("jobs/slow.yml"), """
                name: slow
                table: c
                key: [id]
                set: { n: n + 1 }
                chunk: { rows: 500, min-rows: 500, max-rows: 500 }
                throttle: { rows-per-second: 3000 }
                """);
    }

    private Process runner(String log) throws Exception {
        Process p = Cli.spawn(dir.resolve(log), args("run", "slow"));
        JobStatus s = Eventually.eventually(
                Duration.ofSeconds(60),
                "the runner at work",
                () -> new Backfill(ds).status("slow"),
                x -> (x.chunks() >= 3 && x.running()) || !p.isAlive());
        assertThat(p.isAlive()).as("runner alive: " + s).isTrue();
        return p;
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void pauseFromAnotherProcessStopsWithinAChunkAndResumeFinishesEveryRowOnce() throws Exception {
        Process runner = runner("pause.log");
        Cli.Result pause = Cli.run(args("pause", "slow"));
        assertThat(pause.exitCode()).as(pause.err()).isZero();
        assertThat(pause.out()).contains("pause taken; now PAUSED");
        assertThat(runner.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(runner.exitValue())
                .as(Files.readString(dir.resolve("pause.log")))
                .isEqualTo(5);
        assertThat(Files.readString(dir.resolve("pause.log"))).contains("job slow paused after chunk");

        JobStatus paused = new Backfill(ds).status("slow");
        assertThat(paused.state()).isEqualTo(JobStatus.State.PAUSED);
        assertThat(paused.stopReason()).isEqualTo("paused by an operator");
        assertThat(db.count("SELECT count(*) FROM c WHERE n = 1"))
                .isEqualTo(paused.rowsProcessed())
                .isLessThan(30000);
        assertThat(Cli.run(args("run", "slow")).exitCode())
                .as("a paused job is not runnable")
                .isEqualTo(4);

        // Lowering (here: lifting) the rate of a paused job before resuming it: the resumed runner takes it at once.
        Cli.Result tune = Cli.run(args("tune", "slow", "--rows-per-second", "0"));
        assertThat(tune.exitCode()).as(tune.err()).isZero();
        assertThat(tune.out()).contains("is PAUSED; the new throttle applies when it resumes");
        assertThat(new Backfill(ds).status("slow").rowsPerSecondLimit())
                .as("the limit it resumes with")
                .isZero();
        Cli.Result resumed = Cli.run(args("resume", "slow"));
        assertThat(resumed.exitCode()).as(resumed.err()).isZero();
        assertThat(db.count("SELECT count(*) FROM c WHERE n <> 1")).isZero();
        assertThat(db.count("SELECT count(*) FROM sluice.job_control"))
                .as("the resumed runner took the tune")
                .isZero();
        assertThat(new Backfill(ds).status("slow").rowsPerSecondLimit())
                .as("the tune holds for the job's next work (a validation, a rollback)")
                .isZero();
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void tuneReachesARunningValidation() throws Exception {
        Cli.run(args("run", "slow", "--metrics-port", "0")); // 30,000 rows at 3,000 rows/s, then validated
        Files.writeString(
                dir.resolve("jobs/slow.yml"),
                Files.readString(dir.resolve("jobs/slow.yml")) + "validate: [ { check: \"n = 1\" } ]\n");
        Process validation =
                Cli.spawn(dir.resolve("validate.log"), args("validate", "slow", "--rows-per-second", "1000"));
        Eventually.eventually(
                Duration.ofSeconds(60),
                "validating",
                () -> new Backfill(ds).status("slow").state() == JobStatus.State.VALIDATING);
        Eventually.eventually(
                Duration.ofSeconds(10),
                "the validation's limit recorded",
                () -> Long.valueOf(1000).equals(new Backfill(ds).status("slow").rowsPerSecondLimit()));
        Cli.Result tune = Cli.run(args("tune", "slow", "--rows-per-second", "0"));
        assertThat(tune.out()).as(tune.err()).contains("tune taken");
        Eventually.eventually(
                Duration.ofSeconds(10),
                "the validation unthrottled",
                () -> Long.valueOf(0).equals(new Backfill(ds).status("slow").rowsPerSecondLimit())
                        || !validation.isAlive());
        assertThat(validation.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(validation.exitValue())
                .as(Files.readString(dir.resolve("validate.log")))
                .isZero();
        assertThat(Files.readString(dir.resolve("validate.log"))).contains("validat");
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void statusNamesTheRunnersProcessAndItsDatabaseSession() throws Exception {
        Process runner = runner("pid.log");
        try {
            Cli.Result status = Cli.run(args("status", "slow", "--json"));
            Map<String, Object> json = JsonMapper.builder().build().readValue(status.out(), new TypeReference<>() {});
            assertThat(((Number) json.get("runnerPid")).longValue()).isEqualTo(runner.pid());
            assertThat(json.get("runnerHost")).isNotNull();
            assertThat(((Number) json.get("runnerBackendPid")).intValue()).isPositive();
        } finally {
            runner.destroyForcibly().waitFor();
        }
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void cancelStopsTheJobForGood() throws Exception {
        Process runner = runner("cancel.log");
        Cli.Result cancel = Cli.run(args("cancel", "slow"));
        assertThat(cancel.exitCode()).as(cancel.err()).isZero();
        assertThat(runner.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(runner.exitValue()).isEqualTo(5);
        assertThat(new Backfill(ds).status("slow").state()).isEqualTo(JobStatus.State.CANCELLED);
        assertThat(Cli.run(args("run", "slow")).exitCode()).isEqualTo(4);
        assertThat(Cli.run(args("resume", "slow")).exitCode()).isEqualTo(4);
        assertThat(Cli.run(args("pause", "slow")).exitCode())
                .as("nothing to pause")
                .isEqualTo(4);
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void tuneChangesTheRateOfARunningJob() throws Exception {
        Process runner = runner("tune.log"); // 30,000 rows at 3,000 rows/s
        Eventually.eventually(
                Duration.ofSeconds(10),
                "the runner's limit recorded",
                () -> Long.valueOf(3000).equals(new Backfill(ds).status("slow").rowsPerSecondLimit()));
        Cli.Result tune = Cli.run(args("tune", "slow", "--rows-per-second", "0"));
        assertThat(tune.exitCode()).as(tune.err()).isZero();
        assertThat(tune.out()).contains("tune taken");
        Eventually.eventually(
                Duration.ofSeconds(10),
                "the runner unthrottled",
                () -> Long.valueOf(0).equals(new Backfill(ds).status("slow").rowsPerSecondLimit()));
        assertThat(runner.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(runner.exitValue()).isZero();
        Cli.Result later = Cli.run(args("tune", "slow", "--rows-per-second", "10"));
        assertThat(later.exitCode()).as(later.err()).isZero();
        assertThat(later.out()).contains("is COMPLETED; the new rate applies to its next work");
        assertThat(Cli.run(args("tune", "slow")).exitCode())
                .as("nothing to change")
                .isEqualTo(2);
    }
}
