package dev.sluice.engine.checkpoint;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import javax.sql.DataSource;

import dev.sluice.engine.JobStatus;
import dev.sluice.engine.StopSignal;
import dev.sluice.engine.chunk.Failures;
import dev.sluice.engine.contract.Ledger;
import dev.sluice.engine.control.ControlMailbox;
import dev.sluice.engine.keyset.Sql;

import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.JobInstance;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.job.parameters.JobParametersBuilder;
import org.springframework.batch.infrastructure.item.ExecutionContext;

/**
 * The engine's one door to Spring Batch: starts, continues, cancels and reads the executions of a job's work, and
 * answers in plain {@link Run}s. The JobRepository lives in the target database ({@link CheckpointStore}), so every
 * call works from any process. Starting and continuing are for the holder of the job's runner lock.
 */
public final class JobRuns {

    // Each `run --again` is a new job instance of the same name, told apart by this parameter.
    private static final String RUN_PARAMETER = "run";

    private final DataSource dataSource;
    private final String schema;

    public JobRuns(DataSource dataSource, String schema) {
        this.dataSource = dataSource;
        this.schema = schema;
    }

    /** Creates the job repository's tables (and the control mailbox) unless they exist. */
    public void ensureSchema() throws SQLException {
        BatchSchema.ensure(dataSource, schema);
    }

    /** Operators' requests to the running jobs of this repository. */
    public ControlMailbox mailbox() {
        return new ControlMailbox(dataSource, schema);
    }

    /** Job {@code name}'s undo journal now: rows it can restore and its size as stored. */
    public JobStatus.Undo undo(String name) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            return StatusReader.undo(c, schema, name);
        }
    }

    /** The last execution of {@code jobName}, if it ever ran; creates the job repository on first use. */
    public Optional<Run> last(String jobName) throws SQLException {
        CheckpointStore store = CheckpointStore.open(dataSource, schema);
        return lastExecution(store, jobName).map(JobRuns::run);
    }

    /**
     * Starts execution number {@code number} of the work and runs it to its end (completed, stopped or failed).
     * The caller holds the job's runner lock.
     */
    public Run start(Work work, long number, BackfillJob.Wiring wiring) throws Exception {
        CheckpointStore store = CheckpointStore.open(dataSource, schema);
        JobParameters parameters =
                new JobParametersBuilder().addLong(RUN_PARAMETER, number).toJobParameters();
        return settled(store, store.operator().start(BackfillJob.assemble(store, work, wiring), parameters));
    }

    /**
     * Continues the work's last execution from its checkpoint. The caller holds the job's runner lock, so an
     * execution left running belongs to a runner that is gone: it is marked failed first.
     */
    public Run resume(Work work, BackfillJob.Wiring wiring) throws Exception {
        CheckpointStore store = CheckpointStore.open(dataSource, schema);
        JobExecution last = lastExecution(store, work.jobName())
                .orElseThrow(
                        () -> new IllegalStateException("job " + work.jobName() + " has no execution to continue"));
        Recovery.makeRestartable(store, last);
        return settled(
                store, store.operator().start(BackfillJob.assemble(store, work, wiring), last.getJobParameters()));
    }

    /**
     * An execution as it ended: one an operator cancelled stopped after its chunk, and is marked cancelled now, so
     * that it is never continued (whatever the work: a backfill, a validation, a repair, a rollback).
     */
    private Run settled(CheckpointStore store, JobExecution execution) throws SQLException {
        Run run = run(execution);
        if (run.state() != RunState.STOPPED || !StopSignal.CANCEL.equals(run.stopReason())) {
            return run;
        }
        cancel(run.job());
        return lastExecution(store, run.job()).map(JobRuns::run).orElse(run);
    }

    /** Records that {@code finish} made the job FINISHED (its sync trigger dropped, its contract steps run). */
    public void markFinished(String job, String by) throws SQLException {
        ensureSchema();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps =
                        c.prepareStatement("INSERT INTO " + Sql.quote(schema) + ".job_lifecycle (job, state, by_whom)"
                                + " VALUES (?, 'FINISHED', ?) ON CONFLICT (job) DO UPDATE SET state = excluded.state,"
                                + " at = now(), by_whom = excluded.by_whom")) {
            ps.setString(1, job);
            ps.setString(2, by);
            ps.executeUpdate();
        }
    }

    /** Records that {@code finish --purge} dropped the job's journal and set-aside columns: no way back after it. */
    public void markPurged(String job) throws SQLException {
        lifecycle("UPDATE " + Sql.quote(schema) + ".job_lifecycle SET purged_at = now() WHERE job = ?", job);
    }

    /** Forgets that the job was FINISHED: its rollback reversed its contract steps. */
    public void unmarkFinished(String job) throws SQLException {
        lifecycle("DELETE FROM " + Sql.quote(schema) + ".job_lifecycle WHERE job = ?", job);
    }

    /** Whether {@code finish --purge} dropped the job's journal and set-aside columns. */
    public boolean purged(String job) throws SQLException {
        ensureSchema();
        try (Connection c = dataSource.getConnection()) {
            return new Ledger(schema).purged(c, job);
        }
    }

    /**
     * Deletes job {@code name}'s records, in the caller's transaction: its Spring Batch jobs (the backfill and its
     * validations, repairs and rollbacks: instances, executions, their parameters, contexts and steps), its requests,
     * tuning, lifecycle, contract record, remote-run orders and leases, and its sync trigger's record (the trigger is
     * gone). The caller has checked there is nothing left to undo. The audit trail stays.
     *
     * @return the job executions deleted
     */
    public int forget(Connection c, String name) throws SQLException {
        String s = Sql.quote(schema);
        String[] jobs = java.util.Arrays.stream(Work.Kind.values())
                .map(k -> k.jobOf(name))
                .toArray(String[]::new);
        String executions = "SELECT e.job_execution_id FROM " + s + ".batch_job_execution e JOIN " + s
                + ".batch_job_instance i USING (job_instance_id) WHERE i.job_name = ANY (?)";
        String steps = "SELECT step_execution_id FROM " + s + ".batch_step_execution WHERE job_execution_id IN ("
                + executions + ")";
        int deleted;
        try (PreparedStatement count = c.prepareStatement("SELECT count(*) FROM (" + executions + ") x")) {
            count.setArray(1, c.createArrayOf("text", jobs));
            try (var rs = count.executeQuery()) {
                rs.next();
                deleted = rs.getInt(1);
            }
        }
        for (String sql : List.of(
                "DELETE FROM " + s + ".partition_leases WHERE job_execution_id IN (" + executions + ")",
                "DELETE FROM " + s + ".remote_runs WHERE job_execution_id IN (" + executions + ")",
                "DELETE FROM " + s + ".batch_step_execution_context WHERE step_execution_id IN (" + steps + ")",
                "DELETE FROM " + s + ".batch_step_execution WHERE job_execution_id IN (" + executions + ")",
                "DELETE FROM " + s + ".batch_job_execution_context WHERE job_execution_id IN (" + executions + ")",
                "DELETE FROM " + s + ".batch_job_execution_params WHERE job_execution_id IN (" + executions + ")",
                "DELETE FROM " + s + ".batch_job_execution WHERE job_execution_id IN (" + executions + ")",
                "DELETE FROM " + s + ".batch_job_instance WHERE job_name = ANY (?)")) {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setArray(1, c.createArrayOf("text", jobs));
                ps.executeUpdate();
            }
        }
        for (String table : List.of(
                "job_control", "job_tuning", "job_lifecycle", "contract_steps", "sync_triggers", "undo_journal")) {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + s + "." + table + " WHERE job = ?")) {
                ps.setString(1, name);
                ps.executeUpdate();
            }
        }
        return deleted;
    }

    private void lifecycle(String sql, String job) throws SQLException {
        ensureSchema();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, job);
            ps.executeUpdate();
        }
    }

    /** Marks the work's last execution cancelled, for good; one left running by a dead runner is failed first. */
    public void cancel(String jobName) throws SQLException {
        CheckpointStore store = CheckpointStore.open(dataSource, schema);
        JobExecution last = lastExecution(store, jobName)
                .orElseThrow(() -> new IllegalStateException("job " + jobName + " never ran"));
        Recovery.makeRestartable(store, last);
        try {
            store.operator().abandon(store.repository().getJobExecution(last.getId()));
        } catch (Exception e) {
            throw new IllegalStateException("cannot cancel job " + jobName + ": " + e.getMessage(), e);
        }
    }

    /**
     * Why an execution failed: the line its runner recorded with a partition (a chunk's range and the database's
     * words; a failed partition's first), else its first failure, else the first line Spring Batch stored.
     */
    private static String failure(JobExecution execution, Partitions parts, List<Throwable> failures) {
        String recorded = parts.first(Checkpoint::lastError);
        if (recorded != null) {
            return recorded;
        }
        if (!failures.isEmpty()) {
            return Failures.describe(failures.get(0));
        }
        String stored = execution.getStepExecutions().stream()
                .map(s -> s.getExitStatus().getExitDescription())
                .filter(d -> !d.isEmpty())
                .findFirst()
                .orElse(execution.getExitStatus().getExitDescription());
        return Failures.firstLine(stored);
    }

    private static Optional<JobExecution> lastExecution(CheckpointStore store, String jobName) {
        JobInstance instance = store.repository().getLastJobInstance(jobName);
        return Optional.ofNullable(instance == null ? null : store.repository().getLastJobExecution(instance));
    }

    /** An execution, as plain facts: its partitions' checkpoints summed, their notes, the spec recorded with the job. */
    static Run run(JobExecution execution) {
        Partitions parts = Partitions.of(execution);
        ExecutionContext job = execution.getExecutionContext();
        List<Throwable> failures = execution.getAllFailureExceptions();
        RunState state = RunState.of(execution.getStatus());
        String failure = state != RunState.FAILED ? null : failure(execution, parts, failures);
        List<Run.Part> shown = parts.current().stream()
                .map(v -> new Run.Part(v.name(), v.from(), v.to(), v.state(), v.checkpoint()))
                .toList();
        return new Run(
                execution.getJobInstance().getJobName(),
                state,
                Objects.requireNonNullElse(execution.getJobParameters().getLong(RUN_PARAMETER), 0L),
                parts.total(),
                parts.first(Checkpoint::stopReason),
                failures,
                failure,
                JobRecord.spec(job),
                JobRecord.digest(job),
                JobRecord.estimatedRows(job),
                JobRecord.limit(job),
                parts.notes(),
                parts.recent(),
                shown,
                execution.getStartTime(),
                execution.getEndTime());
    }
}
