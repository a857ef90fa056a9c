package dev.sluice.engine.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import dev.sluice.engine.JobStatus;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.StopSignal;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.DatabaseTest;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.JobInstance;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.infrastructure.item.ExecutionContext;

/**
 * An execution that did not end cleanly is continued from the database's checkpoint: one left STARTED by a runner
 * that died, one UNKNOWN (its last COMMIT's outcome was never learnt), and every mix of job and step statuses that a
 * lost database can leave (the job's FAILED written, its steps' end not). Every row is applied exactly once.
 */
class RecoveryTest extends DatabaseTest {

    private static final JobSpec SPEC = SpecParser.parse("""
            name: inc
            table: c
            key: [id]
            set: { n: n + 1 }
            chunk: { rows: 100, min-rows: 100, max-rows: 100 }
            """);

    @BeforeEach
    void stoppedHalfWay() throws SQLException {
        db.counters("c", 1000);
        StopSignal stop = new StopSignal();
        AtomicInteger chunks = new AtomicInteger();
        RunResult stopped =
                backfill.run(SPEC, RunOptions.defaults().withStop(stop).withObserver(r -> {
                    if (chunks.incrementAndGet() == 4) {
                        stop.request("test");
                    }
                }));
        assertThat(stopped.outcome()).isEqualTo(RunResult.Outcome.STOPPED);
    }

    @ParameterizedTest
    @ValueSource(strings = {"STARTED", "UNKNOWN"})
    void anExecutionThatDidNotEndCleanlyIsContinuedFromTheCheckpoint(String left) throws SQLException {
        db.exec(
                "UPDATE sluice.batch_job_execution SET status = '" + left + "', end_time = NULL",
                "UPDATE sluice.batch_step_execution SET status = '" + left + "', end_time = NULL");
        JobStatus status = backfill.status("inc");
        assertThat(status.state()).as("no runner holds it: it is resumable").isEqualTo(JobStatus.State.FAILED);
        assertThat(status.rowsProcessed()).isEqualTo(400);

        RunResult resumed = backfill.run(SPEC, RunOptions.defaults().resumeOnly(true));
        assertThat(resumed.outcome()).as(resumed.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.count("SELECT count(*) FROM c WHERE n <> 1")).isZero();
    }

    @ParameterizedTest(name = "job {0}, partition step {1}, partition {2}")
    @CsvSource({
        "FAILED, STARTED, STARTED",
        "FAILED, FAILED, STARTED",
        "FAILED, STARTED, FAILED",
        "FAILED, UNKNOWN, UNKNOWN",
        "FAILED, FAILED, UNKNOWN",
        "STOPPED, STARTED, STARTED",
        "STOPPING, STOPPING, STARTED",
        "STARTED, FAILED, FAILED",
        "UNKNOWN, FAILED, STARTED",
        "ABANDONED, STARTED, STARTED"
    })
    void anyMixOfStatusesALostDatabaseLeavesIsContinuedFromTheCheckpoint(String job, String manager, String partition)
            throws SQLException {
        boolean endedJob = !job.equals("STARTED") && !job.equals("STOPPING") && !job.equals("UNKNOWN");
        db.exec(
                "UPDATE sluice.batch_job_execution SET status = '" + job + "'" + (endedJob ? "" : ", end_time = NULL"),
                "UPDATE sluice.batch_step_execution SET status = '" + manager
                        + "', end_time = NULL WHERE step_name = 'backfill'",
                "UPDATE sluice.batch_step_execution SET status = '" + partition
                        + "', end_time = NULL WHERE step_name <> 'backfill'");

        RunResult resumed = backfill.run(SPEC, RunOptions.defaults().resumeOnly(!job.equals("ABANDONED")));
        if (job.equals("ABANDONED")) {
            // Cancelled for good: it never resumes, but it does not strand a new run either.
            assertThat(resumed.outcome())
                    .as(resumed.message())
                    .isIn(RunResult.Outcome.NOT_RUNNABLE, RunResult.Outcome.ALREADY_COMPLETE);
            resumed = backfill.run(SPEC, RunOptions.defaults().again(true));
            assertThat(resumed.outcome()).as(resumed.message()).isEqualTo(RunResult.Outcome.COMPLETED);
            return;
        }
        assertThat(resumed.outcome()).as(resumed.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.count("SELECT count(*) FROM c WHERE n <> 1")).isZero();
        assertThat(backfill.status("inc").state()).isEqualTo(JobStatus.State.COMPLETED);
    }

    @Test
    void aStoppedExecutionContinuesWithoutRecovery() throws SQLException {
        assertThat(backfill.status("inc").state()).isEqualTo(JobStatus.State.STOPPED);
        assertThat(backfill.run(SPEC, RunOptions.defaults().resumeOnly(true)).outcome())
                .isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.count("SELECT count(*) FROM c WHERE n <> 1")).isZero();
    }

    /**
     * A resume attempt that the outage ended between creating its partition's execution and saving that execution's
     * context (Spring Batch does the two one after the other): the empty context must not hide the checkpoint of the
     * execution before it, nor strand the job.
     */
    @Test
    void aPartitionWhoseContextWasNeverSavedContinuesFromTheCheckpointBeforeIt() throws SQLException {
        JobRepository repository = CheckpointStore.connect(ds, "sluice").repository();
        JobInstance instance = repository.getJobInstances("inc", 0, 1).get(0);
        JobExecution last = repository.getLastJobExecution(instance);
        String partition = last.getStepExecutions().stream()
                .map(StepExecution::getStepName)
                .filter(name -> !name.equals("backfill"))
                .findFirst()
                .orElseThrow();
        JobExecution attempt = repository.createJobExecution(
                instance, last.getJobParameters(), new ExecutionContext(last.getExecutionContext()));
        StepExecution manager = repository.createStepExecution("backfill", attempt);
        StepExecution empty = repository.createStepExecution(partition, attempt);
        LocalDateTime now = LocalDateTime.now(ZoneId.systemDefault());
        for (StepExecution step : List.of(manager, empty)) {
            step.setStatus(BatchStatus.FAILED);
            step.setEndTime(now);
            repository.update(step);
        }
        attempt.setStatus(BatchStatus.FAILED);
        attempt.setEndTime(now);
        repository.update(attempt);

        RunResult resumed = backfill.run(SPEC, RunOptions.defaults().resumeOnly(true));
        assertThat(resumed.outcome()).as(resumed.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.count("SELECT count(*) FROM c WHERE n <> 1"))
                .as("no chunk applied twice")
                .isZero();
    }
}
