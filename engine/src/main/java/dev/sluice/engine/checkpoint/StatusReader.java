package dev.sluice.engine.checkpoint;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import javax.sql.DataSource;

import dev.sluice.engine.JobStatus;
import dev.sluice.engine.Key;
import dev.sluice.engine.RuleResult;
import dev.sluice.engine.contract.Ledger;
import dev.sluice.engine.control.ControlMailbox;
import dev.sluice.engine.control.RemoteRuns;
import dev.sluice.engine.control.RunnerLock;
import dev.sluice.engine.control.Tuning;
import dev.sluice.engine.keyset.Sql;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.sync.SyncInstaller;
import dev.sluice.engine.undo.Restorer;
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

    /** Job {@code name}'s status: NOT_STARTED when it never ran. */
    public JobStatus read(String name) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            return storeExists(c) ? read(c, repository(), name, schema) : JobStatus.notStarted(name, null);
        }
    }

    /** Every recorded job's status, by name. */
    public List<JobStatus> readAll() throws SQLException {
        List<JobStatus> out = new ArrayList<>();
        try (Connection c = dataSource.getConnection()) {
            if (!storeExists(c)) {
                return out;
            }
            JobRepository repository = repository();
            for (String job : repository.getJobNames().stream()
                    .filter(Work.Kind::isBackfill)
                    .sorted()
                    .toList()) {
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
        return Sql.exists(c, schema + ".batch_step_execution_context");
    }

    private static Optional<Run> last(JobRepository repository, String job) {
        JobInstance instance = repository.getLastJobInstance(job);
        JobExecution execution = instance == null ? null : repository.getLastJobExecution(instance);
        return Optional.ofNullable(execution == null ? null : JobRuns.run(execution));
    }

    private static Optional<Standing.LastExecution> seen(JobRepository repository, String job) {
        JobInstance instance = repository.getLastJobInstance(job);
        JobExecution execution = instance == null ? null : repository.getLastJobExecution(instance);
        return Optional.ofNullable(execution == null ? null : Standing.LastExecution.of(execution));
    }

    // Cancelled validations passed over to find the one a verdict comes from: more in a row are not looked through.
    private static final int CANCELLED_VALIDATIONS_SEEN = 20;

    /** The job's newest validation, and its newest that an operator did not cancel. */
    private static Standing.Validations validations(JobRepository repository, String job) {
        String name = Work.Kind.VALIDATION.jobOf(job);
        Standing.LastExecution newest = seen(repository, name).orElse(null);
        if (newest == null || newest.run().state() != RunState.CANCELLED) {
            return new Standing.Validations(newest, newest);
        }
        for (JobInstance instance : repository.getJobInstances(name, 1, CANCELLED_VALIDATIONS_SEEN)) {
            JobExecution execution = repository.getLastJobExecution(instance);
            if (execution != null && RunState.of(execution.getStatus()) != RunState.CANCELLED) {
                return new Standing.Validations(newest, Standing.LastExecution.of(execution));
            }
        }
        return new Standing.Validations(newest, null);
    }

    private static JobStatus read(Connection c, JobRepository repository, String job, String schema)
            throws SQLException {
        Optional<Standing.LastExecution> backfill = seen(repository, job);
        if (backfill.isEmpty()) {
            return JobStatus.notStarted(job, null);
        }
        Run run = backfill.get().run();
        JobStatus.Runner runner = RunnerLock.holder(c, job).orElse(null);
        Standing.Validations validations = validations(repository, job);
        Standing.LastExecution rollback =
                seen(repository, Work.Kind.ROLLBACK.jobOf(job)).orElse(null);
        Standing standing = Standing.of(
                job,
                backfill.get(),
                validations,
                seen(repository, Work.Kind.REPAIR.jobOf(job)).orElse(null),
                rollback,
                runner != null);
        JobStatus.State state = standing.state;
        if (state == JobStatus.State.COMPLETED && finished(c, schema, job)) {
            state = JobStatus.State.FINISHED;
        }
        Run current = standing.current.run();
        boolean active = runner != null && current.state() == RunState.RUNNING;
        String throttleReason = active ? standing.current.throttleReason() : null;
        if (state == JobStatus.State.RUNNING && throttleReason != null) {
            state = JobStatus.State.THROTTLED;
        }
        boolean rolledBack = standing.work == JobStatus.Work.ROLLBACK;
        // The job's rows: the backfill's, or its rollback's (the journal's rows it went through).
        Run rows = rolledBack ? current : run;
        Checkpoint cp = rows.checkpoint();
        RateSamples.Rates recent = current.recent();
        boolean checks = standing.work == JobStatus.Work.VALIDATION;
        Long eta = null;
        if (active && recent.processedPerSecond() > 0) {
            eta = Math.max(
                    0,
                    Math.round((current.estimatedRows() - current.checkpoint().rows()) / recent.processedPerSecond()));
        }
        Standing.LastExecution shown = shownValidation(validations, run, rolledBack ? rollback : null);
        return new JobStatus(
                job,
                run.spec() == null ? null : run.spec().table(),
                state,
                cp.rows(),
                cp.written(),
                rows.estimatedRows(),
                cp.chunks(),
                rolledBack || cp.lastKey() == null ? List.of() : cp.lastKey().values(),
                Math.round(rate(current, active, checks) * 10) / 10.0,
                eta,
                current.checkpoint().chunkRows(),
                throttleReason,
                standing.lastError,
                standing.stopReason,
                runner,
                limit(c, schema, job, state, active, current),
                shown == null ? null : summary(shown.run()),
                sync(c, schema, job, run.spec(), rolledBack),
                run.spec() != null && !run.spec().undo()
                        ? null
                        : undo(c, schema, job, rolledBack ? Restorer.conflicts(current.notes()::get) : 0),
                rolledBack ? List.of() : partitions(c, schema, job, run, runner != null),
                active ? Math.round(recent.walBytesPerSecond()) : 0,
                standing.work,
                standing.next,
                contract(c, schema, job, run.spec() == null || run.spec().undo()));
    }

    /** The job's recorded contract steps, or null when finish never began one. */
    private static JobStatus.Contract contract(Connection c, String schema, String job, boolean journaled)
            throws SQLException {
        Map<Integer, Ledger.Entry> entries = new Ledger(schema).read(c, job);
        if (entries.isEmpty()) {
            return null;
        }
        List<JobStatus.ContractStep> steps = new ArrayList<>();
        for (Ledger.Entry e : entries.values()) {
            Instant at = e.state() == Ledger.State.REVERSED
                    ? e.reversedAt()
                    : e.state() == Ledger.State.DONE ? e.doneAt() : e.startedAt();
            steps.add(new JobStatus.ContractStep(
                    "contract[" + e.step() + "]." + e.kind(), e.state().name(), at == null ? null : at.toString()));
        }
        boolean purged = new Ledger(schema).purged(c, job);
        return new JobStatus.Contract(steps, purged, journaled && !purged);
    }

    /**
     * Rows written per second (a validation's: rows checked): over the last minute while the work runs, else over its
     * last execution.
     */
    private static double rate(Run current, boolean active, boolean checks) {
        if (active) {
            return checks
                    ? current.recent().processedPerSecond()
                    : current.recent().writtenPerSecond();
        }
        if (current.startedAt() == null || current.endedAt() == null) {
            return 0;
        }
        double seconds =
                Duration.between(current.startedAt(), current.endedAt()).toMillis() / 1000.0;
        Checkpoint cp = current.checkpoint();
        long done = checks ? cp.rows() - cp.rowsAtStart() : cp.written() - cp.writtenAtStart();
        return seconds > 0 ? done / seconds : 0;
    }

    /**
     * The validation status shows: the one running, else the one the verdict comes from; not one from before the
     * backfill's last execution (it judged another run), nor from before a rollback since.
     */
    private static Standing.LastExecution shownValidation(
            Standing.Validations validations, Run backfill, Standing.LastExecution rollback) {
        Standing.LastExecution v =
                validations.newest() != null && validations.newest().run().state() == RunState.RUNNING
                        ? validations.newest()
                        : validations.verdict();
        if (v == null || !v.startedSince(backfill.startedAt())) {
            return null;
        }
        return rollback == null || v.startedSince(rollback.run().startedAt()) ? v : null;
    }

    /**
     * The rate limit of the work status describes: in force while it runs; while it is paused, stopped or failed, the
     * one it resumes with (a tune waiting in the mailbox for its runner, else its own); none once it ended for good.
     */
    private static Long limit(
            Connection c, String schema, String job, JobStatus.State state, boolean active, Run current)
            throws SQLException {
        if (active) {
            return current.rateLimit();
        }
        boolean resumable =
                state == JobStatus.State.PAUSED || state == JobStatus.State.STOPPED || state == JobStatus.State.FAILED;
        if (resumable || state == JobStatus.State.COMPLETED) {
            // An operator's tune holds for the job's next work: what it will run at.
            JobSpec spec = current.spec();
            Optional<Long> tuned = spec == null
                    ? Optional.empty()
                    : Tuning.read(c, schema, job)
                            .flatMap(t -> t.over(spec.throttle().rowsPerSecond()));
            if (tuned.isPresent()) {
                return tuned.get();
            }
        }
        if (!resumable || current.state().ended()) {
            return null;
        }
        Long pending = Sql.exists(c, ControlMailbox.table(schema)) ? ControlMailbox.pendingRate(c, schema, job) : null;
        return pending != null ? pending : current.rateLimit();
    }

    /** The backfill's partitions, when it has more than one, each in the words of a job's state. */
    private static List<JobStatus.Partition> partitions(
            Connection c, String schema, String job, Run run, boolean runner) throws SQLException {
        if (run.partitions().size() < 2) {
            return List.of();
        }
        Map<String, JobStatus.Runner> workers = run.spec() != null && run.spec().workers() == JobSpec.Workers.REMOTE
                ? RemoteRuns.workers(c, schema, job)
                : Map.of();
        return run.partitions().stream()
                .map(p -> new JobStatus.Partition(
                        p.name(),
                        values(p.from()),
                        values(p.to()),
                        partState(run, p.state(), runner),
                        p.checkpoint().rows(),
                        p.checkpoint().written(),
                        p.checkpoint().chunks(),
                        values(p.checkpoint().lastKey()),
                        workers.get(p.name())))
                .toList();
    }

    /**
     * A partition's Spring Batch status as a job's state: a stopped part of a paused job is PAUSED, of a cancelled one
     * CANCELLED; a started one is RUNNING while a runner holds the job, else its runner died with it (FAILED).
     */
    private static String partState(Run run, String batchStatus, boolean runner) {
        return switch (batchStatus) {
            case "COMPLETED" -> JobStatus.State.COMPLETED.name();
            case "STARTING", "STARTED", "STOPPING" ->
                (runner ? JobStatus.State.RUNNING : JobStatus.State.FAILED).name();
            case "STOPPED" ->
                run.state() == RunState.CANCELLED
                        ? JobStatus.State.CANCELLED.name()
                        : Standing.state(run) == JobStatus.State.PAUSED
                                ? JobStatus.State.PAUSED.name()
                                : JobStatus.State.STOPPED.name();
            case "ABANDONED" -> JobStatus.State.CANCELLED.name();
            default -> JobStatus.State.FAILED.name();
        };
    }

    private static List<String> values(Key key) {
        return key == null ? List.of() : key.values();
    }

    /**
     * The job's undo journal now: rows it can restore and its size as stored (each array's size on disk, compressed
     * or out of line, read without fetching it: cheap enough to ask while the journal grows).
     */
    static JobStatus.Undo undo(Connection c, String schema, String job) throws SQLException {
        return undo(c, schema, job, 0);
    }

    /** @param changedSince rows its last rollback left because others changed them since Sluice wrote them */
    private static JobStatus.Undo undo(Connection c, String schema, String job, long changedSince) throws SQLException {
        if (!Sql.exists(c, Sql.quote(schema) + ".undo_journal")) {
            return new JobStatus.Undo(0, 0, 0);
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(sum(rows), 0),"
                + " coalesce(sum(pg_column_size(keys) + pg_column_size(before) + pg_column_size(existed)"
                + " + pg_column_size(after_hash)), 0) FROM " + Sql.quote(schema) + ".undo_journal j WHERE job = ?")) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new JobStatus.Undo(rs.getLong(1), rs.getLong(2), Math.min(changedSince, rs.getLong(1)));
            }
        }
    }

    /** Whether {@code finish} has made the job FINISHED. */
    private static boolean finished(Connection c, String schema, String job) throws SQLException {
        if (!Sql.exists(c, Sql.quote(schema) + ".job_lifecycle")) {
            return false;
        }
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT 1 FROM " + Sql.quote(schema) + ".job_lifecycle WHERE job = ? AND state = 'FINISHED'")) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /**
     * The job's sync trigger as recorded and as found on its table; null for a job without one. A rollback drops it
     * and forgets it (a later run installs it again).
     */
    private static JobStatus.Sync sync(Connection c, String schema, String job, JobSpec spec, boolean rolledBack)
            throws SQLException {
        Optional<SyncInstaller.Installed> recorded = SyncInstaller.read(c, schema, job);
        if (recorded.isEmpty()) {
            return spec != null && spec.sync() == JobSpec.Sync.TRIGGER
                    ? new JobStatus.Sync(null, spec.table(), false, rolledBack, rolledBack ? "rollback" : null, null)
                    : null;
        }
        SyncInstaller.Installed i = recorded.get();
        String kind = i.kind().name().toLowerCase(Locale.ROOT);
        String droppedBy = i.dropped() ? "finish" : null;
        if (i.inSource()) {
            return new JobStatus.Sync(kind, i.table(), !i.dropped(), i.dropped(), droppedBy, null);
        }
        SyncInstaller.Backlog backlog = SyncInstaller.backlog(c, i);
        return new JobStatus.Sync(
                kind,
                i.table(),
                !i.dropped() && SyncInstaller.present(c, i),
                i.dropped(),
                droppedBy,
                backlog.keys(),
                backlog.oldestSeconds());
    }

    /** What a validation found, as status shows it. */
    private static JobStatus.Validation summary(Run run) {
        long mismatches = ValidationLedger.results(run.ledgerNotes()).stream()
                .mapToLong(RuleResult::mismatches)
                .sum();
        LocalDateTime at = run.endedAt() != null ? run.endedAt() : run.startedAt();
        return new JobStatus.Validation(
                run.state() == RunState.COMPLETED,
                run.checkpoint().rows(),
                mismatches,
                at == null ? null : at.toString());
    }
}
