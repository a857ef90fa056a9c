package dev.sluice.engine.control;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

import javax.sql.DataSource;

import dev.sluice.engine.checkpoint.BackfillJob;
import dev.sluice.engine.checkpoint.Checkpoint;
import dev.sluice.engine.checkpoint.CheckpointStore;
import dev.sluice.engine.checkpoint.JobRecord;
import dev.sluice.engine.checkpoint.ThrottleRecorder;
import dev.sluice.engine.checkpoint.ValidationLedger;
import dev.sluice.engine.spec.JobSpec;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.JobInstance;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.StepExecution;

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
        if (instance == null) {
            return JobStatus.notStarted(job, null);
        }
        JobExecution execution = repository.getLastJobExecution(instance);
        if (execution == null) {
            return JobStatus.notStarted(job, null);
        }
        StepExecution step = repository.getLastStepExecution(instance, STEP);
        Checkpoint cp = step == null ? new Checkpoint(null, 0, 0, 0, 0, 0) : Checkpoint.from(step.getExecutionContext());
        JobSpec spec = JobRecord.spec(execution.getExecutionContext());
        long estimated = JobRecord.estimatedRows(execution.getExecutionContext());
        OptionalInt runner = RunnerLock.holder(c, job);

        JobStatus.State state;
        String lastError = null;
        String throttleReason = null;
        BatchStatus status = execution.getStatus();
        if (status.isRunning()) {
            if (runner.isPresent()) {
                throttleReason = ThrottleRecorder.reason(execution.getExecutionContext());
                state = throttleReason == null ? JobStatus.State.RUNNING : JobStatus.State.THROTTLED;
            } else {
                state = JobStatus.State.FAILED;
                lastError = "the runner ended without recording it (killed?); resume continues from the checkpoint";
            }
        } else {
            state = switch (status) {
                case COMPLETED -> JobStatus.State.COMPLETED;
                case STOPPED -> StopSignal.PAUSE.equals(step == null ? null : Checkpoint.stopReason(step.getExecutionContext()))
                        ? JobStatus.State.PAUSED : JobStatus.State.STOPPED;
                case ABANDONED -> JobStatus.State.CANCELLED;
                default -> JobStatus.State.FAILED;
            };
            if (state == JobStatus.State.FAILED) {
                String recorded = step == null ? null : Checkpoint.lastError(step.getExecutionContext());
                lastError = recorded != null ? recorded : firstLine(step != null
                        && !step.getExitStatus().getExitDescription().isEmpty()
                        ? step.getExitStatus().getExitDescription() : execution.getExitStatus().getExitDescription());
            }
        }

        double rate = 0;
        if (step != null && step.getStartTime() != null) {
            LocalDateTime end = step.getEndTime() != null ? step.getEndTime() : step.getLastUpdated();
            double seconds = end == null ? 0 : Duration.between(step.getStartTime(), end).toMillis() / 1000.0;
            rate = seconds > 0 ? (cp.rows() - cp.rowsAtStart()) / seconds : 0;
        }
        Long eta = null;
        if ((state == JobStatus.State.RUNNING || state == JobStatus.State.THROTTLED) && rate > 0) {
            eta = Math.max(0, Math.round((estimated - cp.rows()) / rate));
        }
        JobStatus.Validation validation = validation(repository, job);
        LocalDateTime completedAt = execution.getEndTime();
        if (state == JobStatus.State.COMPLETED && validation != null && validation.complete() && validation.mismatches() > 0
                && (completedAt == null || validation.at() == null || !LocalDateTime.parse(validation.at()).isBefore(completedAt))) {
            // Every range was applied, but the data says it is not done.
            state = JobStatus.State.FAILED;
            lastError = "validation found " + validation.mismatches() + " mismatches; repair with 'run " + job
                    + " --only-mismatched'";
        }
        return new JobStatus(job, state, cp.rows(), cp.written(), estimated, cp.chunks(),
                cp.lastKey() == null ? List.of() : cp.lastKey().values(), Math.round(rate * 10) / 10.0, eta,
                cp.chunkRows(), throttleReason, lastError, spec == null ? null : spec.table(),
                runner.isPresent() ? runner.getAsInt() : null, validation);
    }

    private static JobStatus.Validation validation(JobRepository repository, String job) {
        JobInstance instance = repository.getLastJobInstance(BackfillJob.validationJob(job));
        JobExecution execution = instance == null ? null : repository.getLastJobExecution(instance);
        StepExecution step = instance == null ? null : repository.getLastStepExecution(instance, BackfillJob.VALIDATE_STEP);
        if (execution == null || step == null) {
            return null;
        }
        long mismatches = ValidationLedger.results(step.getExecutionContext()).stream()
                .mapToLong(dev.sluice.engine.validate.RuleResult::mismatches).sum();
        LocalDateTime at = execution.getEndTime() != null ? execution.getEndTime() : execution.getLastUpdated();
        return new JobStatus.Validation(execution.getStatus() == BatchStatus.COMPLETED,
                Checkpoint.from(step.getExecutionContext()).rows(), mismatches, at == null ? null : at.toString());
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
