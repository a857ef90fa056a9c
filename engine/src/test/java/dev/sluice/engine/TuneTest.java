package dev.sluice.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.sluice.engine.checkpoint.JobRuns;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.DatabaseTest;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An operator's {@code tune} holds for the rest of the job's work until the operator changes it: the validation after
 * the run, a rollback later, a tune given while the job is COMPLETED; status shows the rate in force. A rollback run
 * from a spec file takes that file's pace. {@code run --again} starts over at the spec's rate.
 */
class TuneTest extends DatabaseTest {

    private static final String SPEC = """
            name: tuned
            table: t
            key: [id]
            set: { n: n + 1 }
            chunk: { rows: 250, min-rows: 250, max-rows: 250 }
            throttle: { rows-per-second: 1000 }
            validate: [ { check: "n = 1" } ]
            """;

    private JobRuns runs;

    @BeforeEach
    void table() {
        db.counters("t", 4000);
        runs = new JobRuns(ds, "sluice");
    }

    private ControlRequest tune(long rowsPerSecond) {
        return new ControlRequest(ControlRequest.Command.TUNE, rowsPerSecond, null);
    }

    private Long limitOf(String work) throws Exception {
        return runs.last(work).orElseThrow().rateLimit();
    }

    @Test
    @Timeout(120)
    void aTuneDuringTheBackfillHoldsForItsValidationAndItsRollback() throws Exception {
        AtomicBoolean sent = new AtomicBoolean();
        RunResult run =
                backfill.run(SpecParser.parse(SPEC), RunOptions.defaults().withObserver(report -> {
                    if (sent.compareAndSet(false, true)) {
                        try {
                            backfill.control("tuned", tune(50_000), Duration.ZERO, "test");
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }
                }));
        assertThat(run.outcome()).as(run.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(limitOf("tuned")).as("the backfill took the tune").isEqualTo(50_000L);
        assertThat(limitOf("tuned.validate"))
                .as("its validation ran at the tuned rate")
                .isEqualTo(50_000L);
        JobStatus done = backfill.status("tuned");
        assertThat(done.state()).isEqualTo(JobStatus.State.COMPLETED);
        assertThat(done.rowsPerSecondLimit())
                .as("status shows the rate the next work runs at")
                .isEqualTo(50_000L);

        assertThat(backfill.rollback("tuned", RunOptions.defaults(), false).outcome())
                .isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(limitOf("tuned.rollback"))
                .as("the rollback ran at the tuned rate")
                .isEqualTo(50_000L);
    }

    @Test
    @Timeout(120)
    void aCompletedJobTunedBeforeItsRollbackIsRolledBackAtThatRate() throws Exception {
        JobSpec spec = SpecParser.parse(SPEC.replace("rows-per-second: 1000", "rows-per-second: 0"));
        assertThat(backfill.run(spec, RunOptions.defaults()).outcome()).isEqualTo(RunResult.Outcome.COMPLETED);

        Backfill.ControlResult tuned = backfill.control("tuned", tune(3000), Duration.ZERO, "test");
        assertThat(tuned.ok()).as(tuned.message()).isTrue();
        assertThat(backfill.status("tuned").rowsPerSecondLimit()).isEqualTo(3000L);

        assertThat(backfill.rollback("tuned", RunOptions.defaults(), false).outcome())
                .isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(limitOf("tuned.rollback")).isEqualTo(3000L);

        // Started over: the spec's rate again.
        assertThat(backfill.run(spec, RunOptions.defaults().again(true)).outcome())
                .isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(limitOf("tuned")).isEqualTo(0L);
    }

    @Test
    @Timeout(120)
    void aRollbackFromASpecFileTakesThatFilesPaceAndRestoresAsRecorded() throws Exception {
        JobSpec spec = SpecParser.parse(SPEC.replace("rows-per-second: 1000", "rows-per-second: 0"));
        assertThat(backfill.run(spec, RunOptions.defaults()).outcome()).isEqualTo(RunResult.Outcome.COMPLETED);
        JobSpec file = SpecParser.parse(SPEC.replace("rows-per-second: 1000", "rows-per-second: 4321"));

        assertThat(backfill.rollback("tuned", file, RunOptions.defaults(), false)
                        .outcome())
                .isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(limitOf("tuned.rollback")).isEqualTo(4321L);
        assertThat(db.count("SELECT count(*) FROM t WHERE n <> 0")).isZero();
    }
}
