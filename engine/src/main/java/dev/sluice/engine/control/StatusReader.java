package dev.sluice.engine.control;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;

import javax.sql.DataSource;

import dev.sluice.engine.checkpoint.BackfillJob;
import dev.sluice.engine.checkpoint.Checkpoint;
import dev.sluice.engine.checkpoint.CheckpointStore;
import dev.sluice.engine.checkpoint.JobRecord;
import dev.sluice.engine.checkpoint.RateSamples;
import dev.sluice.engine.checkpoint.ThrottleRecorder;
import dev.sluice.engine.checkpoint.ValidationLedger;
import dev.sluice.engine.spec.JobSpec;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.JobInstance;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.infrastructure.item.ExecutionContext;

/** Reads job states from the JobRepository and the runner locks; writes nothing. */
public final class StatusReader {

    private static final String STEP = BackfillJob.STEP;

    private final DataSource dataSource;
    private final String schema;

    private volatile JobRepository repository;

    public StatusReader(DataSource dataSource, String schema) {
        this.dataSource = dataSource;
        this.schema = schema;
    }

    /** One job's status, or every recorded job's when {@code name} is null. */
    public List<JobStatus> read(String name) throws SQLException {
        List<JobStatus> out = new ArrayList<>();
        try (Connection c = dataSource.getConnection()) {
            if (!storeExists(c)) {
                if (name != null) {
                    out.add(JobStatus.notStarted(name, null));
                }
                return out;
            }
            JobRepository repository = repository();
            // Auxiliary jobs (NAME.validate, NAME.repair) belong to their job: a spec name never contains a dot.
            List<String> names = name != null ? List.of(name)
                    : repository.getJobNames().stream().filter(n -> !n.contains(".")).sorted().toList();
            for (String job : names) {
                out.add(read(c, repository, job));
            }
        }
        return out;
    }

    /** The spec recorded when the job last started, if it ever did. */
    public java.util.Optional<JobSpec> recordedSpec(String name) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            if (!storeExists(c)) {
                return java.util.Optional.empty();
            }
        }
        JobRepository repository = repository();
        JobInstance instance = repository.getLastJobInstance(name);
        JobExecution execution = instance == null ? null : repository.getLastJobExecution(instance);
        return java.util.Optional.ofNullable(execution == null ? null : JobRecord.spec(execution.getExecutionContext()));
    }

    /** Built once: setting up Spring Batch's repository is far dearer than the reads it serves. */
    private JobRepository repository() {
        JobRepository r = repository;
        if (r == null) {
            r = CheckpointStore.connect(dataSource, schema).repository();
            repository = r;
        }
        return r;
    }

    private boolean storeExists(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(? || '.batch_step_execution_context')")) {
            ps.setString(1, schema);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getString(1) != null;
            }
        }
    }

    private static JobStatus read(Connection c, JobRepository repository, String job) throws SQLException {
        JobInstance instance = repository.getLastJobInstance(job);
        JobExecution execution = instance == null ? null : repository.getLastJobExecution(instance);
        if (execution == null) {
            return JobStatus.notStarted(job, null);
        }
        StepExecution step = repository.getLastStepExecution(instance, STEP);
        ExecutionContext stepContext = step == null ? new ExecutionContext() : step.getExecutionContext();
        Checkpoint cp = Checkpoint.from(stepContext);
        JobSpec spec = JobRecord.spec(execution.getExecutionContext());
        long estimated = JobRecord.estimatedRows(execution.getExecutionContext());
        JobStatus.Runner runner = RunnerLock.holder(c, job).orElse(null);
        Auxiliary validation = Auxiliary.read(repository, BackfillJob.validationJob(job), BackfillJob.VALIDATE_STEP);
        Auxiliary repair = Auxiliary.read(repository, BackfillJob.repairJob(job), STEP);

        JobStatus.State state;
        String lastError = null;
        String throttleReason = null;
        String stopReason = Checkpoint.stopReason(stepContext);
        BatchStatus status = execution.getStatus();
        if (runner != null && validation != null && validation.execution().isRunning()) {
            state = JobStatus.State.VALIDATING;
            throttleReason = ThrottleRecorder.reason(validation.execution().getExecutionContext());
        } else if (runner != null && repair != null && repair.execution().isRunning()) {
            throttleReason = ThrottleRecorder.reason(repair.execution().getExecutionContext());
            state = throttleReason == null ? JobStatus.State.RUNNING : JobStatus.State.THROTTLED;
        } else if (status.isRunning()) {
            if (runner != null) {
                throttleReason = ThrottleRecorder.reason(execution.getExecutionContext());
                state = throttleReason == null ? JobStatus.State.RUNNING : JobStatus.State.THROTTLED;
            } else {
                state = JobStatus.State.FAILED;
                lastError = "the runner ended without recording it (killed?); resume continues from the checkpoint";
            }
        } else {
            state = ended(status, stopReason);
            if (state == JobStatus.State.FAILED) {
                String recorded = Checkpoint.lastError(stepContext);
                lastError = recorded != null ? recorded : firstLine(step != null
                        && !step.getExitStatus().getExitDescription().isEmpty()
                        ? step.getExitStatus().getExitDescription() : execution.getExitStatus().getExitDescription());
            }
        }
        if (state == JobStatus.State.COMPLETED) {
            Verdict verdict = verdict(job, spec, execution, validation, runner != null);
            if (verdict != null) {
                state = verdict.state();
                lastError = verdict.error();
                stopReason = verdict.stopReason();
            }
        }

        boolean active = state.active() || state == JobStatus.State.THROTTLED;
        RateSamples.Rates recent = RateSamples.recent(stepContext);
        double rate;
        if (active || step == null || step.getStartTime() == null || step.getEndTime() == null) {
            rate = recent.writtenPerSecond();
        } else {
            double seconds = Duration.between(step.getStartTime(), step.getEndTime()).toMillis() / 1000.0;
            rate = seconds > 0 ? (cp.written() - cp.writtenAtStart()) / seconds : 0;
        }
        Long eta = null;
        if ((state == JobStatus.State.RUNNING || state == JobStatus.State.THROTTLED) && recent.processedPerSecond() > 0) {
            eta = Math.max(0, Math.round((estimated - cp.rows()) / recent.processedPerSecond()));
        }
        return new JobStatus(job, spec == null ? null : spec.table(), state, cp.rows(), cp.written(), estimated,
                cp.chunks(), cp.lastKey() == null ? List.of() : cp.lastKey().values(), Math.round(rate * 10) / 10.0, eta,
                cp.chunkRows(), throttleReason, lastError, stopReason, runner,
                validation == null ? null : validation.summary());
    }

    private static JobStatus.State ended(BatchStatus status, String stopReason) {
        return switch (status) {
            case COMPLETED -> JobStatus.State.COMPLETED;
            case STOPPED -> StopSignal.isPause(stopReason) ? JobStatus.State.PAUSED : JobStatus.State.STOPPED;
            case ABANDONED -> JobStatus.State.CANCELLED;
            default -> JobStatus.State.FAILED;
        };
    }

    /** What a completed backfill's validation says about it, or null when it says it is done. */
    private record Verdict(JobStatus.State state, String error, String stopReason) {
    }

    private static Verdict verdict(String job, JobSpec spec, JobExecution backfill, Auxiliary validation, boolean runner) {
        LocalDateTime completedAt = backfill.getEndTime();
        boolean after = validation != null && (completedAt == null || validation.execution().getStartTime() == null
                || !validation.execution().getStartTime().isBefore(completedAt));
        boolean expected = spec != null && spec.validateAfterRun()
                && (!spec.validate().isEmpty() || spec.mode() == JobSpec.Mode.COPY);
        if (!after) {
            if (!expected) {
                return null;
            }
            // The runner goes on from the last chunk to the validation under the same lock.
            return runner ? new Verdict(JobStatus.State.VALIDATING, null, null)
                    : new Verdict(JobStatus.State.FAILED, "the validation after the run did not start (the runner"
                    + " ended?); 'resume " + job + "' runs it", null);
        }
        JobExecution v = validation.execution();
        if (v.getStatus() == BatchStatus.COMPLETED) {
            long mismatches = validation.summary().mismatches();
            // Every range was applied, but the data says it is not done.
            return mismatches == 0 ? null : new Verdict(JobStatus.State.FAILED, "validation found " + mismatches
                    + " mismatches; repair with 'run " + job + " --only-mismatched'", null);
        }
        String reason = Checkpoint.stopReason(validation.step().getExecutionContext());
        if (v.getStatus() == BatchStatus.STOPPED) {
            return new Verdict(StopSignal.isPause(reason) ? JobStatus.State.PAUSED : JobStatus.State.STOPPED,
                    "validation stopped before it checked every row; 'resume " + job + "' finishes it", reason);
        }
        String why = v.getStatus().isRunning() ? "the runner ended without recording it"
                : Checkpoint.lastError(validation.step().getExecutionContext());
        return new Verdict(JobStatus.State.FAILED, "validation did not finish (" + (why == null ? v.getStatus() : why)
                + "); 'resume " + job + "' finishes it", null);
    }

    /** The last execution of one of a job's auxiliary jobs (its validation, its repair), with its step. */
    private record Auxiliary(JobExecution execution, StepExecution step, JobStatus.Validation summary) {

        static Auxiliary read(JobRepository repository, String name, String stepName) {
            JobInstance instance = repository.getLastJobInstance(name);
            JobExecution execution = instance == null ? null : repository.getLastJobExecution(instance);
            StepExecution step = instance == null ? null : repository.getLastStepExecution(instance, stepName);
            if (execution == null || step == null) {
                return null;
            }
            long mismatches = ValidationLedger.results(step.getExecutionContext()).stream()
                    .mapToLong(dev.sluice.engine.validate.RuleResult::mismatches).sum();
            LocalDateTime at = execution.getEndTime() != null ? execution.getEndTime() : execution.getLastUpdated();
            return new Auxiliary(execution, step, new JobStatus.Validation(execution.getStatus() == BatchStatus.COMPLETED,
                    Checkpoint.from(step.getExecutionContext()).rows(), mismatches, at == null ? null : at.toString()));
        }
    }

    private static String firstLine(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        // Spring Batch stores the stack trace; its first line is the exception and our one-line message.
        String line = text.lines().findFirst().orElse(text);
        int colon = line.indexOf(": ");
        return colon > 0 && line.substring(0, colon).matches("[\\w.$]+") ? line.substring(colon + 2) : line;
    }
}
