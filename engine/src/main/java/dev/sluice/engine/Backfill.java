package dev.sluice.engine;

import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import javax.sql.DataSource;

import dev.sluice.engine.checkpoint.Run;
import dev.sluice.engine.checkpoint.Work;
import dev.sluice.engine.chunk.Failures;
import dev.sluice.engine.control.Audit;
import dev.sluice.engine.control.Tuning;
import dev.sluice.engine.finish.Finish;
import dev.sluice.engine.launch.EngineContext;
import dev.sluice.engine.launch.Launcher;
import dev.sluice.engine.launch.RunResults;
import dev.sluice.engine.notify.Notifier;
import dev.sluice.engine.operate.JobRecords;
import dev.sluice.engine.operate.OperatorControl;
import dev.sluice.engine.preflight.CostSampler;
import dev.sluice.engine.preflight.DryRun;
import dev.sluice.engine.preflight.Prepared;
import dev.sluice.engine.rollback.Rollback;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.validation.Validations;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs backfills: {@code new Backfill(dataSource).run(spec, options)}, and the other verbs of the command line as
 * methods. Preflight first (nothing is written if it fails), then one runner per job (an advisory lock), then the
 * work on Spring Batch with its job repository in the target database, started fresh or continued from its
 * checkpoint. Configure with {@link #builder(DataSource)}.
 */
public final class Backfill implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Backfill.class);

    private final EngineContext context;
    private final DataSource dataSource;
    private final String schema;
    private final Launcher launcher;
    private final Actor actor;
    private final boolean owner;

    /** A Backfill on the target database, with its job repository in schema {@code sluice}. */
    public Backfill(DataSource dataSource) {
        this(builder(dataSource));
    }

    Backfill(BackfillBuilder b) {
        this.context = new EngineContext(b.dataSource, b.schema, b.transformers, b.sources);
        this.dataSource = context.dataSource();
        this.schema = context.schema();
        this.launcher = context.launcher();
        this.actor = b.actor;
        this.owner = true;
    }

    private Backfill(Backfill base, Actor actor) {
        this.context = base.context;
        this.dataSource = base.dataSource;
        this.schema = base.schema;
        this.launcher = base.launcher;
        this.actor = actor;
        this.owner = false;
    }

    /**
     * This Backfill acting for {@code actor}: what the audit trail records of the changes made through it (an HTTP
     * request's principal, say). It shares this one's pools; closing it closes nothing.
     */
    public Backfill as(Actor actor) {
        return new Backfill(this, java.util.Objects.requireNonNull(actor, "actor"));
    }

    /**
     * Waits up to {@code within} for the notifications already queued to have been tried once: what a process about to
     * exit calls, so that its last events (a run's {@code completed}) are not lost to the exit. A receiver that is down
     * is not waited for through its retries.
     */
    public static void awaitNotifications(Duration within) {
        Notifier.flush(within);
    }

    /** Who the audit trail records as acting through this Backfill. */
    public Actor actor() {
        return actor;
    }

    /** The target database (behind the guard that refuses connections at once while it is lost). */
    DataSource database() {
        return dataSource;
    }

    /** How to build a Backfill: the target database, and optionally the rest. */
    public static BackfillBuilder builder(DataSource dataSource) {
        return new BackfillBuilder(dataSource);
    }

    /** Closes the pools opened to source databases (a Backfill made by {@link #as} closes nothing). */
    @Override
    public void close() {
        if (owner) {
            context.close();
        }
    }

    /**
     * Works as a remote worker ({@code sluice worker}): takes partitions of this database's jobs that run with {@code
     * workers: remote}, {@code threads} at once, until {@code options.stop()} is requested; then hands back the
     * partitions it runs after their chunk (other workers continue them) and returns.
     */
    public void work(RunOptions options, int threads) throws SQLException {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        dev.sluice.engine.launch.Workers.work(context, options, threads);
    }

    /** Preflight: checks the spec against the database and plans its statements; writes nothing. */
    public Plan plan(JobSpec spec) throws SQLException {
        return context.plan(spec, true).toPlan();
    }

    private Prepared prepare(JobSpec spec) throws SQLException {
        return context.prepare(spec);
    }

    /**
     * Preflight, then what the whole run will cost, from a sample chunk written and rolled back (its WAL is written,
     * its changes are not kept).
     */
    public CostEstimate estimate(JobSpec spec) throws SQLException {
        return CostSampler.of(dataSource, context.plan(spec));
    }

    /** Preflight, then the first chunk applied in a transaction that is rolled back; changes nothing. */
    public DryRunResult dryRun(JobSpec spec) throws SQLException {
        return DryRun.firstChunk(dataSource, context.plan(spec));
    }

    /** The spec recorded when the job last started, if it ever did. */
    public Optional<JobSpec> recordedSpec(String name) throws SQLException {
        return context.recordedSpec(name);
    }

    /** The state of job {@code name} (NOT_STARTED when it never ran). Reads only. */
    public JobStatus status(String name) throws SQLException {
        return context.status(name);
    }

    /** The state of every job the job repository knows, by name. Reads only. */
    public List<JobStatus> statuses() throws SQLException {
        return context.statuses();
    }

    /**
     * Starts the job, or continues its unfinished execution from the checkpoint, and validates it after its last
     * chunk (under the same runner lock, so that the job is VALIDATING, not COMPLETED, until the verdict).
     *
     * @throws SpecException if the spec does not pass preflight, or its semantic fields changed under an
     *                       unfinished job (without {@code force}); nothing has been written then
     */
    public RunResult run(JobSpec spec, RunOptions options) throws SQLException {
        Audit.Entry audit = audit(
                spec.name(),
                options.resumeOnly() ? "resume" : "run",
                flags("again", options.again(), "force", options.force()),
                spec);
        try {
            return audited(audit, () -> run(spec, options, audit), r -> outcome(r.outcome()), RunResult::message);
        } catch (SQLException | RuntimeException e) {
            if (!(e instanceof SpecException)) {
                announce(spec, "failed", "job " + spec.name() + " failed: " + Failures.describe(e), null);
            }
            throw e;
        }
    }

    private RunResult run(JobSpec spec, RunOptions options, Audit.Entry audit) throws SQLException {
        RunResult result;
        try (Launcher.RunnerHold hold = launcher.new RunnerHold(spec.name())) {
            Backfilled backfilled = runBackfill(spec, options, hold, audit);
            result = backfilled.result();
            boolean validates =
                    backfilled.prepared() != null && backfilled.prepared().validatesAfterRun();
            if (validates && result.outcome() == RunResult.Outcome.COMPLETED) {
                announce(spec, "completed", result.message(), result);
                result = result.validated(validations().validate(spec, options, hold), NextStep.mismatches(spec));
                if (result.outcome() == RunResult.Outcome.COMPLETED) {
                    announce(spec, "validated", result.message(), result);
                }
            } else if (result.outcome() == RunResult.Outcome.COMPLETED) {
                announce(spec, "completed", result.message(), result);
            } else if (validates && result.outcome() == RunResult.Outcome.ALREADY_COMPLETE) {
                result = afterCompletion(spec, options, hold, result);
            }
            // A completed job run again did no work: its verdict, if it had to be finished now, is said where it is.
            if (result.outcome() != RunResult.Outcome.COMPLETED
                    && backfilled.result().outcome() != RunResult.Outcome.ALREADY_COMPLETE) {
                announceEnd(spec, "backfill", result.outcome(), result.message(), result);
            }
        } finally {
            if (options.metrics() != null) {
                JobStatus now = status(spec.name());
                launcher.states(options.metrics()).state(spec.name(), now.state());
                launcher.states(options.metrics()).undo(spec.name(), now.undo());
            }
        }
        return result;
    }

    /**
     * A completed job run again: its verdict is its last validation after the run. One that never finished (the
     * runner was stopped or died while validating) is finished now, so that nobody moves on without it; but a
     * validation an operator paused waits for {@code resume}, and one an operator cancelled for {@code validate}, as
     * a backfill would.
     */
    private RunResult afterCompletion(JobSpec spec, RunOptions options, Launcher.RunnerHold hold, RunResult result)
            throws SQLException {
        JobStatus status = status(spec.name());
        String name = spec.name();
        if (status.work() == JobStatus.Work.VALIDATION && status.state() == JobStatus.State.CANCELLED) {
            return RunResult.of(
                    RunResult.Outcome.NOT_RUNNABLE,
                    "job " + name + "'s validation was cancelled before it checked every row",
                    NextStep.afterCancel(JobStatus.Work.VALIDATION, name));
        }
        if (status.state() == JobStatus.State.PAUSED && !options.resumeOnly()) {
            return RunResult.of(
                    RunResult.Outcome.NOT_RUNNABLE,
                    "job " + name + "'s validation is paused",
                    NextStep.continues(status.work(), name));
        }
        JobStatus.Validation last = status.validation();
        boolean verdictIn = status.state() == JobStatus.State.COMPLETED || (last != null && last.complete());
        if (!verdictIn) {
            RunResult validated =
                    result.validated(validations().validate(spec, options, hold), NextStep.mismatches(spec));
            announceEnd(spec, "validation", validated.outcome(), validated.message(), validated);
            return validated;
        }
        if (last != null && last.complete() && last.mismatches() > 0) {
            return new RunResult(
                    RunResult.Outcome.MISMATCHES,
                    String.format(
                            Locale.ROOT,
                            "job %s is complete, but its last validation found %,d mismatches",
                            name,
                            last.mismatches()),
                    result.rows(),
                    result.written(),
                    result.chunks(),
                    result.seconds(),
                    NextStep.mismatches(spec));
        }
        return result;
    }

    /** What the backfill came to, and the spec as preflight prepared it (null when refused before preflight). */
    private record Backfilled(RunResult result, Prepared prepared) {}

    private Backfilled runBackfill(JobSpec spec, RunOptions options, Launcher.RunnerHold hold, Audit.Entry audit)
            throws SQLException {
        long started = System.nanoTime();
        Optional<RunResult> refused =
                Rollback.beforeRun(spec.name(), status(spec.name()).state(), options.again());
        if (refused.isPresent()) {
            return new Backfilled(refused.get(), null);
        }
        JobStatus.State state = status(spec.name()).state();
        if (state == JobStatus.State.NOT_STARTED || options.again()) {
            Optional<RunResult> waiting = contract().waitingFor(spec);
            if (waiting.isPresent()) {
                return new Backfilled(waiting.get(), null);
            }
        }
        Prepared prepared = prepare(spec);
        Launcher.Launched launched = launcher.launch(
                hold,
                Work.backfill(prepared),
                options,
                (last, attempt) -> {
                    if (last.isEmpty()) {
                        if (options.resumeOnly()) {
                            throw new SpecException("", "job " + spec.name() + " has never run; start it with 'run'");
                        }
                        starting(spec, "started", attempt, audit);
                        return Launcher.Decision.start(1);
                    }
                    Run run = last.get();
                    if (run.state().ended()) {
                        RunResult rolledBack =
                                attempt > 1 ? null : rollbacks().afterRollback(spec.name(), run, options.again());
                        if (rolledBack != null) {
                            return Launcher.Decision.done(rolledBack);
                        }
                        if (!options.again() || attempt > 1) {
                            return Launcher.Decision.done(RunResults.finished(run, started));
                        }
                        rollbacks().beforeWrite(spec, run);
                        starting(spec, "started", attempt, audit);
                        Tuning.forget(dataSource, schema, spec.name()); // started over: at the spec's rate
                        return Launcher.Decision.start(run.number() + 1);
                    }
                    if (!options.resumeOnly() && StopSignal.isPause(run.stopReason()) && attempt == 1) {
                        return Launcher.Decision.done(RunResult.of(
                                RunResult.Outcome.NOT_RUNNABLE,
                                "job " + spec.name() + " is paused",
                                NextStep.continues(JobStatus.Work.BACKFILL, spec.name())));
                    }
                    Launcher.refuseChangedSemantics(run, spec, options.force());
                    rollbacks().beforeWrite(spec, run);
                    starting(spec, "resumed", attempt, audit);
                    return Launcher.Decision.resume();
                },
                options.metrics());
        if (launched.result() != null) {
            if (launched.result().outcome() == RunResult.Outcome.ALREADY_COMPLETE) {
                launcher.sync()
                        .keepInStep(prepared); // every later run: the trigger back if it went, the key log drained
            }
            return new Backfilled(launched.result(), prepared);
        }
        return new Backfilled(RunResults.of(launched.run(), started), prepared);
    }

    /**
     * Keeps a completed job's rows in step with the application's writes, for as long as its sync trigger logs keys
     * (Java mode, a cross-database copy: the rows those keys name are re-transformed): a round every {@code every}
     * until {@code stop} is requested or {@code finish} drops the trigger. Each round takes the job's runner lock for
     * its drain only. A job that is not COMPLETED is left to its runs (a paused one stays paused).
     *
     * @return the keys re-applied
     */
    public long keepInStep(JobSpec spec, Duration every, StopSignal stop) throws SQLException {
        if (status(spec.name()).state() != JobStatus.State.COMPLETED) {
            return 0;
        }
        return launcher.sync().follow(context.plan(spec), every, stop);
    }

    /**
     * One round of {@link #keepInStep(JobSpec, Duration, StopSignal)}: for a completed job whose trigger logs keys, the
     * keys waiting re-applied now, unless a runner holds the job.
     *
     * @return the keys re-applied, or -1 when nothing was done (not completed, no key log, a runner holds it)
     */
    public long keepInStep(JobSpec spec) throws SQLException {
        if (status(spec.name()).state() != JobStatus.State.COMPLETED) {
            return -1;
        }
        return launcher.sync().drainRound(context.plan(spec));
    }

    /**
     * Runs the spec's validation rules over every row, in keyset chunks, read-only, throttled and health-gated like
     * the backfill, restartable (an unfinished validation continues), its result kept with the job.
     */
    public ValidationResult validate(JobSpec spec, RunOptions options) throws SQLException {
        // Its verdict is what require and finish go by: recorded when it ends (it changes no row).
        Map<String, Object> given = new LinkedHashMap<>();
        given.put("rowsPerSecond", options.validateRowsPerSecond());
        Audit.Entry audit = audit(spec.name(), "validate", given, spec);
        ValidationResult r = audited(
                audit,
                () -> {
                    try (Launcher.RunnerHold hold = launcher.new RunnerHold(spec.name())) {
                        return validations().validate(spec, options, hold);
                    }
                },
                v -> outcome(v.outcome()),
                ValidationResult::message);
        announceEnd(spec, "validation", r.outcome(), r.message(), null);
        return r;
    }

    /**
     * Re-applies the transformation only to rows whose target differs from its source expression (the spec's
     * comparison rules on {@code set} columns), in chunks, then validates again.
     */
    public ValidationResult repair(JobSpec spec, RunOptions options) throws SQLException {
        Audit.Entry audit = audit(spec.name(), "repair", Map.of(), spec);
        ValidationResult r = audited(
                audit,
                () -> validations().repair(spec, options, audit),
                v -> outcome(v.outcome()),
                ValidationResult::message);
        announceEnd(spec, "validation", r.outcome(), r.message(), null);
        return r;
    }

    private Validations validations() {
        return new Validations(context);
    }

    /**
     * Asks job {@code name} to pause, cancel or change its throttle; see {@link OperatorControl}.
     *
     * @return what happened, in one line; {@code ok} false when the request does not apply now
     */
    public ControlResult control(String name, ControlRequest request, Duration wait, String by)
            throws SQLException, InterruptedException {
        Map<String, Object> options = new LinkedHashMap<>();
        options.put("rowsPerSecond", request.rowsPerSecond());
        options.put(
                "chunkTarget",
                request.chunkTarget() == null ? null : request.chunkTarget().toString());
        Optional<JobSpec> recorded = recordedSpec(name);
        Audit.Entry audit = audit(
                name,
                request.command().name().toLowerCase(Locale.ROOT),
                options,
                recorded.map(Audit::digest).orElse(null));
        ControlResult r;
        try {
            r = new OperatorControl(context).control(name, request, wait, by == null ? actor.describe() : by, audit);
        } catch (SQLException | RuntimeException | InterruptedException e) {
            endQuietly(audit, e);
            throw e;
        }
        endQuietly(audit, r.ok() ? "done" : "refused", r.message());
        if (r.ok()
                && request.command() == ControlRequest.Command.CANCEL
                && r.message().contains("at once")) {
            recorded.ifPresent(s -> announce(s, "cancelled", r.message(), null));
        }
        return r;
    }

    /**
     * The contract step's gate: returns the jobs' statuses when every one is done (COMPLETED or FINISHED, its last
     * validation clean, its sync trigger in place with nothing left to re-apply).
     *
     * @throws JobNotDoneException naming the first job that is not done, and why, in one line
     */
    public List<JobStatus> require(String... names) throws SQLException {
        return contract().require(Duration.ZERO, names);
    }

    /**
     * {@link #require(String...)}, where a job whose sync trigger logs keys counts as done while the oldest key
     * waiting to be re-applied was logged within {@code syncLag} (the application keeps writing; a drain keeps up):
     * what a gate before the contract step on a busy table needs. {@code finish} re-applies the last keys itself.
     */
    public List<JobStatus> require(Duration syncLag, String... names) throws SQLException {
        return contract().require(syncLag, names);
    }

    /**
     * The contract step for Sluice's own objects: for a job that is done (see {@link #require}), drops its sync
     * trigger (lock-safe), and the job is FINISHED.
     *
     * @return what happened, in one line; {@code ok} false when the job is not done or busy (nothing changed)
     */
    public ControlResult finish(String name, String by) throws SQLException {
        FinishResult r = finish(name, null, false, by);
        return new ControlResult(r.finished(), r.message(), r.next());
    }

    /**
     * The contract step: for a job that is done (see {@link #require}), drops its sync trigger (lock-safe), then runs
     * the contract steps of {@code spec} (a spec file an operator gives; null: the recorded spec's) in order, each
     * lock-safe and recorded, so that a finish stopped at any instant goes on from the step it was in; then the job
     * is FINISHED. Its undo journal and the columns its steps set aside stay, so {@code rollback} can still undo it,
     * until {@code purge}.
     *
     * @param purge drop the undo journal and the set-aside columns too: no rollback after it
     * @throws SpecException (exit 2) naming a step that cannot run lock-safe on the table as it is
     */
    public FinishResult finish(String name, JobSpec spec, boolean purge, String by) throws SQLException {
        // The spec the command acts on: the one given, else the one recorded (read once, for the trail and the
        // notification).
        Optional<JobSpec> acting = spec != null ? Optional.of(spec) : recordedSpec(name);
        Audit.Entry audit = audit(
                name,
                purge ? "purge" : "finish",
                flags("purge", purge, "specGiven", spec != null),
                acting.map(Audit::digest).orElse(null));
        FinishResult r = audited(
                audit,
                () -> contract().finish(name, spec, purge, by == null ? actor.describe() : by, audit),
                x -> x.outcome().name().toLowerCase(Locale.ROOT),
                FinishResult::message);
        if (r.outcome() == FinishResult.Outcome.FINISHED || r.outcome() == FinishResult.Outcome.FAILED) {
            String event = r.outcome() == FinishResult.Outcome.FINISHED ? "finished" : "failed";
            acting.ifPresent(s -> announce(s, event, r.message(), null));
        }
        return r;
    }

    /**
     * Restores what job {@code name} overwrote, from its undo journal (see {@link Rollback}); the job must not be
     * running (pause or stop it first).
     *
     * @param force restore rows changed by others since Sluice wrote them too (else they are left and reported)
     */
    public RunResult rollback(String name, RunOptions options, boolean force) throws SQLException {
        return rollback(name, null, options, force);
    }

    /**
     * {@link #rollback(String, RunOptions, boolean)} at the pace {@code tuning} sets (its chunk sizing, throttle,
     * health signals, timeouts: a spec file an operator gives), restoring as the recorded spec wrote; null: as
     * recorded.
     */
    public RunResult rollback(String name, JobSpec tuning, RunOptions options, boolean force) throws SQLException {
        JobSpec recorded =
                recordedSpec(name).orElseThrow(() -> new SpecException("JOB", "job " + name + " has never run"));
        JobSpec spec = tuning == null ? recorded : recorded.tunedBy(tuning);
        Audit.Entry audit =
                audit(name, "rollback", flags("force", force, "tuningGiven", tuning != null), Audit.digest(recorded));
        RunResult r = audited(
                audit,
                () -> rollbacks().run(spec, options, force, audit),
                x -> outcome(x.outcome()),
                RunResult::message);
        announceEnd(spec, "rollback", r.outcome(), r.message(), r);
        return r;
    }

    /**
     * Forgets job {@code name}: deletes its records from the job repository (its runs, checkpoints, validations,
     * contract record, tuning), keeping its audit trail. Only for a job with nothing left to undo or finish: FINISHED
     * and purged, ROLLED_BACK, CANCELLED, or one that never ran.
     *
     * @return what happened, in one line; {@code ok} false (nothing deleted) while the job runs, is in another state,
     *         or still has a sync trigger, an undo journal or set-aside columns
     */
    public ControlResult forget(String name) throws SQLException {
        Audit.Entry audit = audit(name, "forget", Map.of(), recordedDigest(name));
        return audited(
                audit,
                () -> new JobRecords(context).forget(name, audit),
                r -> r.ok() ? "done" : "refused",
                ControlResult::message);
    }

    /** Job {@code name}'s audit trail, oldest first: every command that changed it, who asked, from where. */
    public List<AuditEntry> history(String name) throws SQLException {
        return audit().history(name);
    }

    /** Each job's last run, resume or repair in the audit trail, by job name. */
    public Map<String, AuditEntry> lastRuns() throws SQLException {
        return audit().lastRuns();
    }

    /**
     * A run past its checks, its lock held, about to write: its audit row (as running), and {@code started} or {@code
     * resumed} said once (not again after a reconnect).
     */
    private void starting(JobSpec spec, String event, int attempt, Audit.Entry audit) throws SQLException {
        audit.begin();
        if (attempt == 1) {
            announce(spec, event, "job " + spec.name() + " " + event + " (" + actor.describe() + ")", null);
        }
    }

    /** How a piece of work ended, as the event a notification is for. */
    private void announceEnd(JobSpec spec, String work, RunResult.Outcome outcome, String message, RunResult r) {
        if (spec.notifications().isEmpty()) {
            return;
        }
        String event = switch (outcome) {
            case COMPLETED ->
                work.equals("rollback") ? "rolled-back" : work.equals("validation") ? "validated" : "completed";
            case MISMATCHES -> "mismatches";
            case FAILED -> "failed";
            case STOPPED -> stoppedAs(spec.name());
            default -> null;
        };
        if (event != null) {
            announce(spec, event, message, r);
        }
    }

    /** What a stopped piece of work is now: {@code paused}, {@code cancelled}, or {@code stopped} (a signal). */
    private String stoppedAs(String name) {
        try {
            return switch (status(name).state()) {
                case PAUSED -> "paused";
                case CANCELLED -> "cancelled";
                default -> "stopped";
            };
        } catch (SQLException | RuntimeException e) {
            return "stopped";
        }
    }

    /** Posts {@code event} to the spec's {@code notify} targets that ask for it; never fails the caller. */
    private void announce(JobSpec spec, String event, String message, RunResult r) {
        if (spec.notifications().isEmpty()) {
            return;
        }
        try {
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("message", message);
            fields.put("by", actor.describe());
            if (r != null) {
                fields.put("rows", r.rows());
                fields.put("rowsWritten", r.written());
                fields.put("seconds", r.seconds());
            }
            String text = message != null && message.startsWith("job ")
                    ? message
                    : "job " + spec.name() + " " + event + (message == null ? "" : ": " + message);
            Notifier.post(spec, event, text, fields);
        } catch (RuntimeException e) {
            LOG.warn("job {}: the {} notification is not sent: {}", spec.name(), event, e.getMessage());
        }
    }

    private Audit audit() {
        return new Audit(dataSource, schema);
    }

    private Audit.Entry audit(String job, String command, Map<String, Object> options, JobSpec spec) {
        return audit(job, command, options, Audit.digest(spec));
    }

    private Audit.Entry audit(String job, String command, Map<String, Object> options, String digest) {
        return audit().entry(job, command, options, digest, actor);
    }

    private String recordedDigest(String name) throws SQLException {
        return recordedSpec(name).map(Audit::digest).orElse(null);
    }

    /** The options that are on, by name: {@code again: true}; those that are off are left out. */
    private static Map<String, Object> flags(String name, boolean on, String other, boolean otherOn) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (on) {
            out.put(name, true);
        }
        if (otherOn) {
            out.put(other, true);
        }
        return out;
    }

    private static String outcome(RunResult.Outcome o) {
        return o.name().toLowerCase(Locale.ROOT);
    }

    /** A command that returns a result. */
    private interface Command<T> {
        T run() throws SQLException;
    }

    /**
     * Runs {@code command} and records its outcome: nothing for bad input refused before its first change ({@code
     * refused} after it), the error for a failure.
     */
    private static <T> T audited(
            Audit.Entry audit,
            Command<T> command,
            java.util.function.Function<T, String> outcome,
            java.util.function.Function<T, String> message)
            throws SQLException {
        T result;
        try {
            result = command.run();
        } catch (SpecException e) {
            // Refused before its first change: nothing is written. After it (a rollback's preflight that fails once
            // its contract was reversed), its row says so.
            if (audit.written()) {
                endQuietly(audit, "refused", e.getMessage());
            }
            throw e;
        } catch (SQLException | RuntimeException | Error e) {
            endQuietly(audit, e);
            throw e;
        }
        endQuietly(audit, outcome.apply(result), message.apply(result));
        return result;
    }

    /**
     * Records how a command ended, unless the database cannot take it (the command's own result, a run that failed
     * because the database went away, say, is what the caller must see).
     */
    private static void endQuietly(Audit.Entry audit, String outcome, String message) {
        try {
            audit.end(outcome, message);
        } catch (SQLException | RuntimeException e) {
            LOG.warn(
                    "the audit trail could not record how {} ended ({}): {}",
                    audit.command(),
                    outcome,
                    Failures.describe(e));
        }
    }

    /** Records a command's failure, unless the database cannot take it either (the failure is what the caller sees). */
    private static void endQuietly(Audit.Entry audit, Throwable failure) {
        try {
            audit.end("failed", failure.getMessage());
        } catch (SQLException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    private Rollback rollbacks() {
        return new Rollback(context);
    }

    private Finish contract() {
        return new Finish(context);
    }

    /**
     * What a control request (or finish) came to, in one line.
     *
     * @param ok   false when the request does not apply now (nothing changed)
     * @param next the way on from the state the job reached, or null
     */
    public record ControlResult(boolean ok, String message, NextStep next) {
        public ControlResult(boolean ok, String message) {
            this(ok, message, null);
        }
    }
}
