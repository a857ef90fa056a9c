package dev.sluice.engine;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import dev.sluice.engine.checkpoint.BackfillJob;
import dev.sluice.engine.checkpoint.Checkpoint;
import dev.sluice.engine.checkpoint.CheckpointStore;
import dev.sluice.engine.checkpoint.ChunkLedger;
import dev.sluice.engine.checkpoint.Failures;
import dev.sluice.engine.checkpoint.JobRecord;
import dev.sluice.engine.checkpoint.Recovery;
import dev.sluice.engine.checkpoint.ValidationLedger;
import dev.sluice.engine.chunk.ChunkWriter;
import dev.sluice.engine.chunk.Transformer;
import dev.sluice.engine.control.ControlMailbox;
import dev.sluice.engine.control.JobStatus;
import dev.sluice.engine.control.Reconnection;
import dev.sluice.engine.control.RunnerLock;
import dev.sluice.engine.control.StatusReader;
import dev.sluice.engine.control.StopSignal;
import dev.sluice.engine.health.HealthGates;
import dev.sluice.engine.health.StandbySignal;
import dev.sluice.engine.metrics.JobMetrics;
import dev.sluice.engine.metrics.JobStateMetrics;
import dev.sluice.engine.preflight.DryRun;
import dev.sluice.engine.preflight.Preflight;
import dev.sluice.engine.preflight.Prepared;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.throttle.Pacer;
import dev.sluice.engine.validate.RangeCheck;
import dev.sluice.engine.validate.Rule;
import dev.sluice.engine.validate.RuleResult;
import dev.sluice.engine.validate.ValidationResult;
import dev.sluice.engine.validate.Validator;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.observation.ObservationRegistry;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.JobInstance;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.job.parameters.JobParametersBuilder;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.StepExecution;

/**
 * Runs backfills: {@code new Backfill(dataSource).run(spec, options)}. Preflight first (nothing is written if it
 * fails), then one runner per job (an advisory lock), then the job on Spring Batch with its JobRepository in the
 * target database, started fresh or continued from its checkpoint.
 */
public final class Backfill implements AutoCloseable {

    private static final String STEP = BackfillJob.STEP;
    private static final String RUN_PARAMETER = "run";
    private static final Pattern SCHEMA = Pattern.compile("[a-z_][a-z0-9_]*");

    private final DataSource dataSource;
    private final String schema;
    private final Transformer.Catalog transformers;
    private final StandbySignal.Connector sourceConnector;
    private final Map<String, HikariDataSource> sources = new ConcurrentHashMap<>();
    private final StatusReader statusReader;
    private final Map<MeterRegistry, JobStateMetrics> stateMetrics = new ConcurrentHashMap<>();
    private final Map<MeterRegistry, Map<String, JobMetrics>> jobMetrics = new ConcurrentHashMap<>();

    public Backfill(DataSource dataSource) {
        this(dataSource, CheckpointStore.DEFAULT_SCHEMA);
    }

    /** @param schema where the JobRepository's tables live in the target database */
    public Backfill(DataSource dataSource, String schema) {
        this(dataSource, schema, Transformer.Catalog.EMPTY);
    }

    /** @param transformers where the Java transformers that specs name are found */
    public Backfill(DataSource dataSource, String schema, Transformer.Catalog transformers) {
        this(dataSource, schema, transformers, DriverManager::getConnection);
    }

    /** @param sourceConnector opens connections to the {@code source.jdbc-url} of cross-database copies */
    public Backfill(DataSource dataSource, String schema, Transformer.Catalog transformers,
                    StandbySignal.Connector sourceConnector) {
        if (!SCHEMA.matcher(schema).matches()) {
            throw new IllegalArgumentException("schema '" + schema + "' must be a lower-case SQL identifier");
        }
        this.dataSource = dataSource;
        this.schema = schema;
        this.transformers = transformers;
        this.sourceConnector = sourceConnector;
        this.statusReader = new StatusReader(dataSource, schema);
    }

    /** Closes the pools opened to source databases. */
    @Override
    public void close() {
        sources.values().forEach(HikariDataSource::close);
        sources.clear();
    }

    private DataSource source(JobSpec spec) {
        if (spec.source() == null) {
            return null;
        }
        return sources.computeIfAbsent(spec.source().jdbcUrl(), url -> {
            HikariConfig config = new HikariConfig();
            config.setDataSource(new ConnectorDataSource(url, sourceConnector));
            config.setMaximumPoolSize(2);
            config.setPoolName("sluice-source");
            config.setExceptionOverride(new ServerErrorsKeepConnections());
            config.setInitializationFailTimeout(-1);
            return new HikariDataSource(config);
        });
    }

    /** Preflight: checks the spec against the database and plans its statements; writes nothing. */
    public Prepared plan(JobSpec spec) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            return Preflight.check(c, spec, transformers, source(spec));
        }
    }

    /** Preflight, then the first chunk applied in a transaction that is rolled back; changes nothing. */
    public DryRun.Report dryRun(JobSpec spec) throws SQLException {
        return DryRun.firstChunk(dataSource, plan(spec));
    }

    /** The spec recorded when the job last started, if it ever did. */
    public java.util.Optional<JobSpec> recordedSpec(String name) throws SQLException {
        return statusReader.recordedSpec(name);
    }

    /** The state of one job, or of every job when {@code name} is null. Reads only. */
    public List<JobStatus> status(String name) throws SQLException {
        return statusReader.read(name);
    }

    /**
     * Starts the job, or continues its unfinished execution from the checkpoint.
     *
     * @throws SpecException if the spec does not pass preflight, or its semantic fields changed under an
     *                       unfinished job (without {@code force}); nothing has been written then
     */
    public RunResult run(JobSpec spec, RunOptions options) throws SQLException {
        RunResult result;
        try (Hold hold = new Hold(spec.name())) {
            result = runBackfill(spec, options, hold);
            boolean validates = spec.validateAfterRun() && (!spec.validate().isEmpty() || spec.mode() == JobSpec.Mode.COPY);
            if (validates && result.outcome() == RunResult.Outcome.COMPLETED) {
                result = result.validated(validate(spec, options, hold));
            } else if (validates && result.outcome() == RunResult.Outcome.ALREADY_COMPLETE) {
                result = afterCompletion(spec, options, hold, result);
            }
        } finally {
            if (options.metrics() != null) {
                List<JobStatus> now = status(spec.name());
                states(options.metrics()).state(spec.name(), now.isEmpty() ? JobStatus.State.NOT_STARTED : now.get(0).state());
            }
        }
        return result;
    }

    /**
     * A completed job run again: its verdict is its last validation after the run. One that never finished (the
     * runner was stopped or died while validating) is finished now, so that nobody moves on without it.
     */
    private RunResult afterCompletion(JobSpec spec, RunOptions options, Hold hold, RunResult result) throws SQLException {
        JobStatus status = status(spec.name()).get(0);
        JobStatus.Validation last = status.validation();
        if (status.state() != JobStatus.State.COMPLETED && (last == null || !last.complete() || last.mismatches() == 0)) {
            return result.validated(validate(spec, options, hold));
        }
        if (last != null && last.complete() && last.mismatches() > 0) {
            return new RunResult(RunResult.Outcome.MISMATCHES, "job " + spec.name() + " is complete, but its last"
                    + " validation found " + last.mismatches() + " mismatches (repair: run --only-mismatched)",
                    result.rows(), result.written(), result.chunks(), result.seconds());
        }
        return result;
    }

    private RunResult runBackfill(JobSpec spec, RunOptions options, Hold hold) throws SQLException {
        long started = System.nanoTime();
        Prepared prepared = plan(spec);
        Launched launched = launch(hold, prepared, options, spec.name(), (store, last, attempt) -> {
            if (last == null) {
                if (options.resumeOnly()) {
                    throw new SpecException("", "job " + spec.name() + " has never run; start it with 'run'");
                }
                return Decision.start(runNumber(1));
            }
            if (last.getStatus() == BatchStatus.COMPLETED || last.getStatus() == BatchStatus.ABANDONED) {
                if (!options.again() || attempt > 1) {
                    return Decision.done(finished(last, started));
                }
                return Decision.start(runNumber(Objects.requireNonNullElse(last.getJobParameters().getLong(RUN_PARAMETER),
                        0L) + 1));
            }
            if (!options.resumeOnly() && StopSignal.isPause(stopReason(last)) && attempt == 1) {
                return Decision.done(RunResult.of(RunResult.Outcome.NOT_RUNNABLE, "job " + spec.name() + " is paused;"
                        + " continue it with 'resume " + spec.name() + "'"));
            }
            refuseChangedSemantics(last, spec, options.force());
            return Decision.resume(last);
        }, (store, wiring) -> BackfillJob.assemble(store, prepared, wiring), options.metrics());
        if (launched.result() != null) {
            return launched.result();
        }
        JobExecution execution = launched.execution();
        if (execution.getStatus() == BatchStatus.STOPPED && StopSignal.CANCEL.equals(stopReason(execution))) {
            try {
                CheckpointStore.open(dataSource, schema).operator().abandon(execution); // cancelled: never resumed
            } catch (Exception e) {
                throw new IllegalStateException("cannot mark job " + spec.name() + " cancelled: " + e.getMessage(), e);
            }
        }
        return result(execution, started);
    }

    /**
     * Runs the spec's validation rules over every row, in keyset chunks, read-only, throttled and health-gated like
     * the backfill, restartable (an unfinished validation continues), its result kept with the job.
     */
    public ValidationResult validate(JobSpec spec, RunOptions options) throws SQLException {
        try (Hold hold = new Hold(spec.name())) {
            return validate(spec, options, hold);
        }
    }

    private ValidationResult validate(JobSpec spec, RunOptions options, Hold hold) throws SQLException {
        long started = System.nanoTime();
        Prepared prepared = plan(spec);
        RangeCheck validator = prepared.copyComparison() != null ? prepared.copyComparison() : validator(prepared);
        String jobName = BackfillJob.validationJob(spec.name());
        if (options.metrics() != null) {
            states(options.metrics()).state(spec.name(), JobStatus.State.VALIDATING);
        }
        JobExecution execution = launchAuxiliary(hold, prepared, options, jobName, (store, wiring) ->
                BackfillJob.assemble(store, prepared, wiring, new BackfillJob.Work(jobName, BackfillJob.VALIDATE_STEP,
                        ChunkWriter.READ_ONLY, new ValidationLedger(validator), options.validateRowsPerSecond() != null
                        ? options.validateRowsPerSecond() : spec.throttle().validationRate())));
        if (execution == null) {
            return new ValidationResult(false, "job " + spec.name() + " is running" + holder(spec.name())
                    + "; validate it when it is done", List.of(), 0, 0, seconds(started));
        }
        StepExecution step = execution.getStepExecutions().stream().findFirst().orElse(null);
        Checkpoint cp = step == null ? Checkpoint.NONE : Checkpoint.from(step.getExecutionContext());
        List<RuleResult> rules = step == null ? List.of() : ValidationLedger.results(step.getExecutionContext());
        boolean complete = execution.getStatus() == BatchStatus.COMPLETED;
        if (options.metrics() != null) {
            states(options.metrics()).validation(spec.name(), rules);
        }
        String message = complete ? "validated " + cp.rows() + " rows"
                : result(execution, started).message().replace("job " + jobName, "validation of " + spec.name());
        return new ValidationResult(complete, message, rules, cp.rows(), cp.chunks(), seconds(started));
    }

    /**
     * Re-applies the transformation only to rows whose target differs from its source expression (the spec's
     * comparison rules on {@code set} columns), in chunks, then validates again.
     */
    public ValidationResult repair(JobSpec spec, RunOptions options) throws SQLException {
        try (Hold hold = new Hold(spec.name())) {
            return repair(spec, options, hold);
        }
    }

    private ValidationResult repair(JobSpec spec, RunOptions options, Hold hold) throws SQLException {
        List<String> differs = new ArrayList<>();
        for (JobSpec.ValidationRule r : spec.validate()) {
            if (r.check() == null && spec.set().containsKey(r.target())) {
                differs.add(dev.sluice.engine.keyset.Sql.quote(r.target()) + " IS DISTINCT FROM (" + r.source() + ")");
            }
        }
        if (differs.isEmpty()) {
            throw new SpecException("validate", "no {target, source} rule covers a column of set: nothing tells which"
                    + " rows to repair");
        }
        JobSpec repairing = new JobSpec(spec.name(), spec.table(), spec.key(), String.join(" OR ", differs), spec.set(),
                spec.into(), spec.columns(), spec.transformer(), spec.source(), spec.chunk(), spec.throttle(), spec.health(),
                spec.timeouts(), spec.validate(), spec.validateAfterRun(), spec.schedule());
        Prepared prepared = plan(repairing);
        String jobName = BackfillJob.repairJob(spec.name());
        JobExecution execution = launchAuxiliary(hold, prepared, options, jobName, (store, wiring) ->
                BackfillJob.assemble(store, prepared, wiring, new BackfillJob.Work(jobName, STEP, prepared.writer(),
                        ChunkLedger.NONE, spec.throttle().rowsPerSecond())));
        if (execution == null || execution.getStatus() != BatchStatus.COMPLETED) {
            String why = execution == null ? "job " + spec.name() + " is running" + holder(spec.name())
                    : result(execution, System.nanoTime()).message();
            return new ValidationResult(false, "repair of " + spec.name() + " did not finish: " + why, List.of(), 0, 0, 0);
        }
        return validate(spec, options, hold);
    }

    private static Validator validator(Prepared prepared) {
        List<Rule> rules = Validator.rules(prepared.keyset().table(), prepared.spec().validate());
        if (rules.isEmpty()) {
            throw new SpecException("validate", "no rules (add e.g. - { target: email_lower, source: lower(email) })");
        }
        // Preflight has type-checked the rules against the table already.
        Validator validator = new Validator(prepared.keyset(), rules);
        return validator;
    }

    private interface JobFactory {
        Job create(CheckpointStore store, BackfillJob.Wiring wiring);
    }

    /** What a runner holding the job's lock does with the job's last execution. */
    private interface Decider {
        /** @param attempt 1, then 2, 3, ... after each reconnect */
        Decision decide(CheckpointStore store, JobExecution last, int attempt) throws Exception;
    }

    /** Start an execution with these parameters, continue one, or return at once with a result. */
    private record Decision(JobParameters start, JobExecution resume, RunResult done) {
        static Decision start(JobParameters parameters) {
            return new Decision(parameters, null, null);
        }

        static Decision resume(JobExecution last) {
            return new Decision(null, last, null);
        }

        static Decision done(RunResult result) {
            return new Decision(null, null, result);
        }
    }

    /** The execution a launch ran, or the result it returned without running one. */
    private record Launched(JobExecution execution, RunResult result) {
    }

    /**
     * Runs a job of the spec under the spec's runner lock, and rides through a lost database: when the connection
     * goes (in a chunk, in the job repository's bookkeeping, in the lock's own session), it waits for the database
     * to answer again, takes the lock again, and continues from the last committed checkpoint. Another runner that
     * took the lock meanwhile wins: this one returns NOT_RUNNABLE.
     */
    private Launched launch(Hold hold, Prepared prepared, RunOptions options, String jobName, Decider decider,
                            JobFactory factory, MeterRegistry metrics) throws SQLException {
        JobSpec spec = prepared.spec();
        Reconnection reconnection = new Reconnection(dataSource, spec.timeouts().reconnect(), options.stop(),
                options.observer()::reconnecting);
        for (int attempt = 1; ; attempt++) {
            String lost;
            try {
                RunnerLock lock = hold.lock();
                if (lock == null) {
                    return new Launched(null, RunResult.of(RunResult.Outcome.NOT_RUNNABLE, "job " + spec.name() + " is "
                            + (reconnection.reconnects() > 0 ? "held by another runner since this one lost the database"
                            : "already running") + holder(spec.name())));
                }
                try (HealthGates gates = HealthGates.forSpec(spec.health(), dataSource, options.standbys())) {
                    try {
                        CheckpointStore store = CheckpointStore.open(dataSource, schema);
                        JobInstance instance = store.repository().getLastJobInstance(jobName);
                        JobExecution last = instance == null ? null : store.repository().getLastJobExecution(instance);
                        Decision decision = decider.decide(store, last, attempt);
                        if (decision.done() != null) {
                            return new Launched(null, decision.done());
                        }
                        JobParameters parameters = decision.start();
                        if (decision.resume() != null) {
                            // We hold the job's lock, so a runner that left it STARTED is gone (killed, or lost its
                            // connection); its last committed checkpoint is where we continue.
                            Recovery.makeRestartable(store, decision.resume());
                            parameters = decision.resume().getJobParameters();
                        }
                        Job job = factory.create(store, wiring(spec.name(), spec.chunk().target(), lock, options, gates,
                                metrics));
                        JobExecution execution = store.operator().start(job, parameters);
                        lost = lostDatabase(execution.getAllFailureExceptions(), lock);
                        if (lost == null) {
                            return new Launched(execution, null);
                        }
                    } catch (SpecException e) {
                        throw e;
                    } catch (Exception e) {
                        lost = lostDatabase(List.of(e), lock);
                        if (lost == null) {
                            if (e instanceof SQLException sql) {
                                throw sql;
                            }
                            throw new IllegalStateException("Spring Batch refused to run " + jobName + ": "
                                    + e.getMessage(), e);
                        }
                    }
                }
            } catch (SQLException e) {
                if (!Reconnection.isLost(e)) {
                    throw e;
                }
                lost = Reconnection.describe(e); // taking the lock found the database gone
            }
            hold.release(); // its session died with the database; the next attempt takes the lock again
            try {
                reconnection.await(lost);
            } catch (Reconnection.GaveUp e) {
                return new Launched(null, RunResult.of(e.stopped() ? RunResult.Outcome.STOPPED : RunResult.Outcome.FAILED,
                        "job " + spec.name() + " " + e.getMessage()));
            }
        }
    }

    /**
     * The failure that shows the database was lost, or null: one that says so itself, or any failure of a runner whose
     * lock's session has ended (a failure's own words may be the pool's "connection is closed" on cleaning up).
     */
    private static String lostDatabase(List<Throwable> failures, RunnerLock lock) {
        for (Throwable t : failures) {
            if (Reconnection.isLost(t)) {
                return Reconnection.describe(t);
            }
        }
        if (failures.isEmpty() || lock.isAlive()) {
            return null;
        }
        return "the server ended the runner's sessions, its lock's too: a restart or a failover";
    }

    /** Runs an auxiliary job of a spec under its runner lock: continues it if unfinished, else starts it anew. */
    private JobExecution launchAuxiliary(Hold hold, Prepared prepared, RunOptions options, String jobName,
                                         JobFactory factory) throws SQLException {
        // Validation and repair runs do not feed the job's chunk meters: those count the backfill.
        Launched launched = launch(hold, prepared, options, jobName, (store, last, attempt) -> {
            if (last == null || last.getStatus() == BatchStatus.COMPLETED || last.getStatus() == BatchStatus.ABANDONED) {
                long n = last == null ? 0 : Objects.requireNonNullElse(last.getJobParameters().getLong(RUN_PARAMETER), 0L);
                return Decision.start(runNumber(n + 1));
            }
            return Decision.resume(last);
        }, factory, null);
        if (launched.result() != null) {
            if (launched.result().outcome() == RunResult.Outcome.NOT_RUNNABLE) {
                return null;
            }
            throw new IllegalStateException(launched.result().message());
        }
        return launched.execution();
    }

    /** Connects a run to its stop signal, observers, gates and, when asked, meters and Batch observations. */
    private JobStateMetrics states(MeterRegistry registry) {
        return stateMetrics.computeIfAbsent(registry, JobStateMetrics::new);
    }

    private BackfillJob.Wiring wiring(String job, java.time.Duration chunkTarget, RunnerLock lock, RunOptions options,
                                      HealthGates gates, MeterRegistry metrics) {
        if (metrics == null) {
            return new BackfillJob.Wiring(lock, options.stop(), options.observer(), gates, Pacer.Observer.NONE,
                    ObservationRegistry.NOOP);
        }
        // One set of meters per job and registry, kept across runs: a meter registered again would be ignored,
        // and a gauge would keep reading the first run's values (serve resumes jobs many times).
        JobMetrics meters = jobMetrics.computeIfAbsent(metrics, r -> new ConcurrentHashMap<>())
                .computeIfAbsent(job, j -> new JobMetrics(metrics, j, states(metrics)));
        meters.target(chunkTarget);
        gates.onReadings(meters::readings);
        ObservationRegistry observations = ObservationRegistry.create();
        observations.observationConfig().observationHandler(new DefaultMeterObservationHandler(metrics));
        return new BackfillJob.Wiring(lock, options.stop(), options.observer().and(meters), gates, meters, observations);
    }

    private static void refuseChangedSemantics(JobExecution last, JobSpec spec, boolean force) {
        String digest = JobRecord.digest(last.getExecutionContext());
        if (force || digest == null || digest.equals(spec.semanticDigest())) {
            return;
        }
        JobSpec recorded = JobRecord.spec(last.getExecutionContext());
        List<String> changed = new ArrayList<>();
        if (recorded != null) {
            compare(changed, "table", recorded.table(), spec.table());
            compare(changed, "key", recorded.key(), spec.key());
            compare(changed, "where", recorded.where(), spec.where());
            compare(changed, "set", recorded.set(), spec.set());
            compare(changed, "into", recorded.into(), spec.into());
            compare(changed, "columns", recorded.columns(), spec.columns());
            compare(changed, "transformer", recorded.transformer(), spec.transformer());
            compare(changed, "source", recorded.source(), spec.source());
        }
        String field = changed.isEmpty() ? "" : changed.get(0);
        throw new SpecException(field, "changed since job " + spec.name() + " started (" + String.join(", ", changed)
                + "); resuming would mix two transformations: restore it, or resume with --force");
    }

    private static void compare(List<String> changed, String field, Object before, Object now) {
        if (!Objects.equals(before, now)) {
            changed.add(field);
        }
    }

    private static JobParameters runNumber(long n) {
        return new JobParametersBuilder().addLong(RUN_PARAMETER, n).toJobParameters();
    }

    private String holder(String job) {
        try (Connection c = dataSource.getConnection()) {
            return RunnerLock.holder(c, job).map(r -> " (by " + (r.pid() == null ? "a runner" : "sluice pid " + r.pid()
                    + (r.host() == null ? "" : " on " + r.host())) + ", PostgreSQL backend pid " + r.backendPid() + ")")
                    .orElse("");
        } catch (SQLException e) {
            return "";
        }
    }

    /**
     * The job's runner lock for one call of a verb: taken at the first launch, held from the backfill's last chunk
     * into its validation (so that no other runner, and no reader of its status, finds the job between the two),
     * dropped when the database is lost and taken again after the reconnect.
     */
    private final class Hold implements AutoCloseable {
        private final String job;
        private RunnerLock lock;

        Hold(String job) {
            this.job = job;
        }

        /** The lock, taken now if not held; null if another runner holds it. */
        RunnerLock lock() throws SQLException {
            if (lock == null) {
                lock = RunnerLock.tryAcquire(dataSource, job);
            }
            return lock;
        }

        void release() {
            if (lock != null) {
                lock.close();
                lock = null;
            }
        }

        @Override
        public void close() {
            release();
        }
    }

    private static RunResult finished(JobExecution last, long started) {
        Checkpoint cp = checkpoint(last);
        String name = last.getJobInstance().getJobName();
        if (last.getStatus() == BatchStatus.ABANDONED) {
            return new RunResult(RunResult.Outcome.NOT_RUNNABLE, "job " + name + " was cancelled; start it over with"
                    + " --again", cp.rows(), cp.written(), cp.chunks(), seconds(started));
        }
        return new RunResult(RunResult.Outcome.ALREADY_COMPLETE, "job " + name + " is already complete (" + cp.rows()
                + " rows); run it again with --again", cp.rows(), cp.written(), cp.chunks(), seconds(started));
    }

    private static RunResult result(JobExecution execution, long started) {
        Checkpoint cp = checkpoint(execution);
        String name = execution.getJobInstance().getJobName();
        RunResult.Outcome outcome;
        String message;
        switch (execution.getStatus()) {
            case COMPLETED -> {
                outcome = RunResult.Outcome.COMPLETED;
                message = "job " + name + " completed";
            }
            case STOPPED, ABANDONED -> {
                outcome = RunResult.Outcome.STOPPED;
                String reason = stopReason(execution);
                if (StopSignal.CANCEL.equals(reason)) {
                    message = "job " + name + " cancelled after chunk " + cp.chunks() + " (last key " + cp.lastKey()
                            + "); it will not resume ('run --again' starts it over)";
                } else {
                    message = "job " + name + (StopSignal.PAUSE.equals(reason) ? " paused" : " stopped") + " after chunk "
                            + cp.chunks() + " (last key " + cp.lastKey() + "); resume it with 'resume " + name + "'";
                }
            }
            default -> {
                outcome = RunResult.Outcome.FAILED;
                List<Throwable> failures = execution.getAllFailureExceptions();
                String why = failures.isEmpty() ? execution.getExitStatus().getExitDescription()
                        : Failures.describe(failures.get(0));
                message = "job " + name + " failed: " + why + "; resume it with 'resume " + name + "'";
            }
        }
        return new RunResult(outcome, message, cp.rows(), cp.written(), cp.chunks(), seconds(started));
    }

    private static String stopReason(JobExecution execution) {
        return execution.getStepExecutions().stream().filter(s -> STEP.equals(s.getStepName())).findFirst()
                .map(s -> Checkpoint.stopReason(s.getExecutionContext())).orElse(null);
    }

    /**
     * Asks job {@code name} to pause, cancel or change its throttle; see {@link OperatorControl}.
     *
     * @return what happened, in one line; {@code ok} false when the request does not apply now
     */
    public ControlResult control(String name, ControlMailbox.Request request, java.time.Duration wait, String by)
            throws SQLException, InterruptedException {
        return new OperatorControl(dataSource, schema, this::status).control(name, request, wait, by);
    }

    /** What a control request came to. */
    public record ControlResult(boolean ok, String message) {
    }

    private static Checkpoint checkpoint(JobExecution execution) {
        return execution.getStepExecutions().stream().filter(s -> STEP.equals(s.getStepName())).findFirst()
                .map(s -> Checkpoint.from(s.getExecutionContext()))
                .orElse(Checkpoint.NONE);
    }

    private static double seconds(long started) {
        return (System.nanoTime() - started) / 1e9;
    }
}
