package dev.sluice.engine.checkpoint;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import javax.sql.DataSource;

import dev.sluice.engine.control.ControlMailbox;
import dev.sluice.engine.control.JobStatus;
import dev.sluice.engine.keyset.Key;
import dev.sluice.engine.control.RunnerLock;
import dev.sluice.engine.control.StopSignal;
import dev.sluice.engine.keyset.Sql;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.sync.SyncInstaller;
import dev.sluice.engine.undo.Restorer;
import dev.sluice.engine.validate.RuleResult;
import dev.sluice.engine.validate.ValidationLedger;

import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.JobInstance;
import org.springframework.batch.core.repository.JobRepository;

/**
 * Reads job states from the job repository and the runner locks, from any process; writes nothing (a database where
 * no job ever ran has no job repository, and gets none from a read). A job's state is the one its backfill, its
 * validation and its repair say together: VALIDATING from the backfill's last chunk to the validation's verdict,
 * and a completed backfill whose validation found mismatches or did not finish is not COMPLETED.
 */
public final class StatusReader {

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
            List<String> names = name != null ? List.of(name)
                    : repository.getJobNames().stream().filter(Work.Kind::isBackfill).sorted().toList();
            for (String job : names) {
                out.add(read(c, repository, job, schema));
            }
        }
        return out;
    }

    /** The spec recorded when the job last started, if it ever did. */
    public Optional<JobSpec> recordedSpec(String name) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            if (!storeExists(c)) {
                return Optional.empty();
            }
        }
        return last(repository(), name).map(Run::spec);
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
        return exists(c, schema + ".batch_step_execution_context");
    }

    private static Optional<Run> last(JobRepository repository, String job) {
        JobInstance instance = repository.getLastJobInstance(job);
        JobExecution execution = instance == null ? null : repository.getLastJobExecution(instance);
        return Optional.ofNullable(execution == null ? null : JobRuns.run(execution));
    }

    /** A read of one execution, with the throttle reason its runner keeps in the job's context. */
    private record Seen(Run run, String throttleReason) {
    }

    private static Optional<Seen> seen(JobRepository repository, String job) {
        JobInstance instance = repository.getLastJobInstance(job);
        JobExecution execution = instance == null ? null : repository.getLastJobExecution(instance);
        return Optional.ofNullable(execution == null ? null
                : new Seen(JobRuns.run(execution), ThrottleRecorder.reason(execution.getExecutionContext())));
    }

    private static JobStatus read(Connection c, JobRepository repository, String job, String schema) throws SQLException {
        Optional<Seen> backfill = seen(repository, job);
        if (backfill.isEmpty()) {
            return JobStatus.notStarted(job, null);
        }
        Run run = backfill.get().run();
        Checkpoint cp = run.checkpoint();
        JobStatus.Runner runner = RunnerLock.holder(c, job).orElse(null);
        Seen validation = seen(repository, Work.Kind.VALIDATION.jobOf(job)).orElse(null);
        Seen repair = seen(repository, Work.Kind.REPAIR.jobOf(job)).orElse(null);

        JobStatus.State state;
        String lastError = null;
        String throttleReason = null;
        String stopReason = run.stopReason();
        if (runner != null && validation != null && validation.run().state() == RunState.RUNNING) {
            state = JobStatus.State.VALIDATING;
            throttleReason = validation.throttleReason();
        } else if (runner != null && repair != null && repair.run().state() == RunState.RUNNING) {
            throttleReason = repair.throttleReason();
            state = throttleReason == null ? JobStatus.State.RUNNING : JobStatus.State.THROTTLED;
        } else if (run.state() == RunState.RUNNING) {
            if (runner != null) {
                throttleReason = backfill.get().throttleReason();
                state = throttleReason == null ? JobStatus.State.RUNNING : JobStatus.State.THROTTLED;
            } else {
                state = JobStatus.State.FAILED;
                lastError = "the runner ended without recording it (killed?); resume continues from the checkpoint";
            }
        } else {
            state = state(run);
            lastError = state == JobStatus.State.FAILED ? run.failure() : null;
        }
        Validation v = validation == null ? null : Validation.of(validation.run());
        Seen rollback = seen(repository, Work.Kind.ROLLBACK.jobOf(job)).orElse(null);
        boolean rolledBackSince = rollback != null && rollback.run().startedAt() != null && run.startedAt() != null
                && !rollback.run().startedAt().isBefore(run.startedAt());
        if (rolledBackSince) {
            Verdict rb = rollbackState(job, rollback, runner != null);
            state = rb.state();
            lastError = rb.error();
            stopReason = rb.stopReason();
            throttleReason = state == JobStatus.State.ROLLING_BACK ? rollback.throttleReason() : null;
        } else if (state == JobStatus.State.COMPLETED) {
            Verdict verdict = verdict(job, run, v, runner != null);
            if (verdict != null) {
                state = verdict.state();
                lastError = verdict.error();
                stopReason = verdict.stopReason();
            }
        }
        if (state == JobStatus.State.COMPLETED && finished(c, schema, job)) {
            state = JobStatus.State.FINISHED;
        }
        boolean active = state.active() || state == JobStatus.State.THROTTLED;
        RateSamples.Rates recent = run.recent();
        double rate;
        if (active || run.startedAt() == null || run.endedAt() == null) {
            rate = recent.writtenPerSecond();
        } else {
            double seconds = Duration.between(run.startedAt(), run.endedAt()).toMillis() / 1000.0;
            rate = seconds > 0 ? (cp.written() - cp.writtenAtStart()) / seconds : 0;
        }
        Long eta = null;
        if ((state == JobStatus.State.RUNNING || state == JobStatus.State.THROTTLED) && recent.processedPerSecond() > 0) {
            eta = Math.max(0, Math.round((run.estimatedRows() - cp.rows()) / recent.processedPerSecond()));
        }
        return new JobStatus(job, run.spec() == null ? null : run.spec().table(), state, cp.rows(), cp.written(),
                run.estimatedRows(), cp.chunks(), cp.lastKey() == null ? List.of() : cp.lastKey().values(),
                Math.round(rate * 10) / 10.0, eta, cp.chunkRows(), throttleReason, lastError, stopReason, runner,
                limit(c, schema, job, state, active, validation, run),
                v == null ? null : v.summary(), sync(c, schema, job, run.spec()),
                run.spec() != null && !run.spec().undo() ? null : undo(c, schema, job), partitions(run),
                active ? Math.round(recent.walBytesPerSecond()) : 0);
    }

    /**
     * The rate limit in force: validation's while it validates; a tune waiting for the runner that resumes a job
     * paused, stopped or failed; else the run's (the spec's, or a tune it took).
     */
    private static Long limit(Connection c, String schema, String job, JobStatus.State state, boolean active,
                              Seen validation, Run run) throws SQLException {
        if (state == JobStatus.State.VALIDATING && validation != null) {
            return validation.run().rateLimit();
        }
        if (!active && (state == JobStatus.State.PAUSED || state == JobStatus.State.STOPPED
                || state == JobStatus.State.FAILED)) {
            Long pending = exists(c, ControlMailbox.table(schema)) ? ControlMailbox.pendingRate(c, schema, job) : null;
            if (pending != null) {
                return pending;
            }
        }
        return run.rateLimit();
    }

    /** The backfill's partitions, when it has more than one. */
    private static List<JobStatus.Partition> partitions(Run run) {
        if (run.partitions().size() < 2) {
            return List.of();
        }
        return run.partitions().stream().map(p -> new JobStatus.Partition(p.name(), values(p.from()), values(p.to()),
                p.state(), p.checkpoint().rows(), p.checkpoint().written(), p.checkpoint().chunks(),
                values(p.checkpoint().lastKey()))).toList();
    }

    private static List<String> values(Key key) {
        return key == null ? List.of() : key.values();
    }

    /** What a rollback run that came after the backfill makes of the job. */
    private static Verdict rollbackState(String job, Seen rollback, boolean runner) {
        Run rb = rollback.run();
        String onward = "; 'rollback " + job + "' continues it";
        return switch (rb.state()) {
            case RUNNING -> runner ? new Verdict(JobStatus.State.ROLLING_BACK, null, null)
                    : new Verdict(JobStatus.State.FAILED, "the rollback's runner ended without recording it (killed?)"
                    + onward, null);
            case COMPLETED -> {
                long changed = Restorer.conflicts(rb.notes()::get);
                yield changed == 0 ? new Verdict(JobStatus.State.ROLLED_BACK, null, null)
                        : new Verdict(JobStatus.State.FAILED, "the rollback left " + changed + " rows changed by others"
                        + " since Sluice wrote them; 'rollback " + job + " --force' restores them too", null);
            }
            case STOPPED -> new Verdict(state(rb), "the rollback stopped before it restored every row" + onward,
                    rb.stopReason());
            case CANCELLED -> new Verdict(JobStatus.State.CANCELLED, "the rollback was cancelled" + onward, null);
            case FAILED -> new Verdict(JobStatus.State.FAILED, "the rollback failed: " + rb.failure() + onward, null);
        };
    }

    /**
     * The job's undo journal now: rows it can restore and its size as stored (each array's size on disk, compressed
     * or out of line, read without fetching it: cheap enough to ask while the journal grows).
     */
    static JobStatus.Undo undo(Connection c, String schema, String job) throws SQLException {
        if (!exists(c, Sql.quote(schema) + ".undo_journal")) {
            return new JobStatus.Undo(0, 0);
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(sum(rows), 0),"
                + " coalesce(sum(pg_column_size(keys) + pg_column_size(before) + pg_column_size(existed)"
                + " + pg_column_size(after_hash)), 0) FROM " + Sql.quote(schema) + ".undo_journal j WHERE job = ?")) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new JobStatus.Undo(rs.getLong(1), rs.getLong(2));
            }
        }
    }

    private static boolean exists(Connection c, String relation) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            ps.setString(1, relation);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    /** Whether {@code finish} has made the job FINISHED. */
    private static boolean finished(Connection c, String schema, String job) throws SQLException {
        if (!exists(c, Sql.quote(schema) + ".job_lifecycle")) {
            return false;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + Sql.quote(schema)
                + ".job_lifecycle WHERE job = ? AND state = 'FINISHED'")) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** The job's sync trigger as recorded and as found on its table; null for a job without one. */
    private static JobStatus.Sync sync(Connection c, String schema, String job, JobSpec spec) throws SQLException {
        Optional<SyncInstaller.Installed> recorded = SyncInstaller.read(c, schema, job);
        if (recorded.isEmpty()) {
            return spec != null && spec.sync() == JobSpec.Sync.TRIGGER
                    ? new JobStatus.Sync(null, spec.table(), false, false, null) : null;
        }
        SyncInstaller.Installed i = recorded.get();
        if (i.inSource()) {
            return new JobStatus.Sync(i.kind().name().toLowerCase(java.util.Locale.ROOT), i.table(), !i.dropped(),
                    i.dropped(), null);
        }
        SyncInstaller.Backlog backlog = SyncInstaller.backlog(c, i);
        return new JobStatus.Sync(i.kind().name().toLowerCase(java.util.Locale.ROOT), i.table(),
                !i.dropped() && SyncInstaller.present(c, i), i.dropped(), backlog.keys(), backlog.oldestSeconds());
    }

    /** The state an ended execution leaves its job in: the one mapping from a run's state to a job's. */
    static JobStatus.State state(Run run) {
        return switch (run.state()) {
            case RUNNING -> JobStatus.State.RUNNING;
            case COMPLETED -> JobStatus.State.COMPLETED;
            case STOPPED -> StopSignal.isPause(run.stopReason()) ? JobStatus.State.PAUSED : JobStatus.State.STOPPED;
            case CANCELLED -> JobStatus.State.CANCELLED;
            case FAILED -> JobStatus.State.FAILED;
        };
    }

    /** The last validation of a job: its run and what it found. */
    private record Validation(Run run, JobStatus.Validation summary) {
        static Validation of(Run run) {
            long mismatches = ValidationLedger.results(run.ledgerNotes()).stream().mapToLong(RuleResult::mismatches).sum();
            java.time.LocalDateTime at = run.endedAt() != null ? run.endedAt() : run.startedAt();
            return new Validation(run, new JobStatus.Validation(run.state() == RunState.COMPLETED,
                    run.checkpoint().rows(), mismatches, at == null ? null : at.toString()));
        }
    }

    /** What a completed backfill's validation says about it, or null when it says it is done. */
    private record Verdict(JobStatus.State state, String error, String stopReason) {
    }

    private static Verdict verdict(String job, Run backfill, Validation validation, boolean runner) {
        boolean after = validation != null && (backfill.endedAt() == null || validation.run().startedAt() == null
                || !validation.run().startedAt().isBefore(backfill.endedAt()));
        JobSpec spec = backfill.spec();
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
        Run v = validation.run();
        switch (v.state()) {
            case COMPLETED -> {
                long mismatches = validation.summary().mismatches();
                // Every range was applied, but the data says it is not done.
                return mismatches == 0 ? null : new Verdict(JobStatus.State.FAILED, "validation found " + mismatches
                        + " mismatches; repair with 'run " + job + " --only-mismatched'", null);
            }
            case STOPPED -> {
                return new Verdict(state(v), "validation stopped before it checked every row; 'resume " + job
                        + "' finishes it", v.stopReason());
            }
            default -> {
                String why = v.state() == RunState.RUNNING ? "the runner ended without recording it" : v.failure();
                return new Verdict(JobStatus.State.FAILED, "validation did not finish (" + (why == null ? v.state() : why)
                        + "); 'resume " + job + "' finishes it", null);
            }
        }
    }
}
