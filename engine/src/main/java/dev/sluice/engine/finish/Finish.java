package dev.sluice.engine.finish;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import javax.sql.DataSource;

import dev.sluice.engine.FinishResult;
import dev.sluice.engine.JobNotDoneException;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.NextStep;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.chunk.ChunkTimeouts;
import dev.sluice.engine.contract.ContractSteps;
import dev.sluice.engine.contract.Ledger;
import dev.sluice.engine.control.Audit;
import dev.sluice.engine.launch.EngineContext;
import dev.sluice.engine.launch.Journals;
import dev.sluice.engine.launch.Launcher;
import dev.sluice.engine.preflight.Prepared;
import dev.sluice.engine.spec.AfterCycles;
import dev.sluice.engine.spec.Durations;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.sync.KeyLogDrain;
import dev.sluice.engine.sync.LockSafe;
import dev.sluice.engine.sync.SyncDefinition;
import dev.sluice.engine.sync.SyncInstaller;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When the contract step may go on, and Sluice's part of it. A job is done when it is COMPLETED or FINISHED, its
 * last validation checked every row and found no mismatch, and its sync trigger (if it has one) is still keeping
 * rows in step with nothing left to re-apply: one rule for {@code require} and {@code finish}.
 */
public final class Finish {

    private static final Logger LOG = LoggerFactory.getLogger(Finish.class);

    private final DataSource dataSource;
    private final String schema;
    private final Launcher launcher;
    private final EngineContext context;

    public Finish(EngineContext context) {
        this.context = context;
        this.dataSource = context.dataSource();
        this.schema = context.schema();
        this.launcher = context.launcher();
    }

    /** @param syncLag how long keys may have waited in a sync key log and the job still count as done */
    public List<JobStatus> require(Duration syncLag, String... names) throws SQLException {
        List<JobStatus> done = new ArrayList<>();
        for (String name : names) {
            JobStatus s = withSource(context.status(name));
            Optional<String> why = notDone(s, syncLag);
            if (why.isPresent()) {
                throw new JobNotDoneException(name, "job " + name + " is not done: " + why.get());
            }
            done.add(s);
        }
        return done;
    }

    /**
     * Drops the job's sync trigger and runs its contract steps (those of {@code given}, a spec file an operator
     * gives, else the recorded spec's), each recorded; then the job is FINISHED. {@code purge}: the undo journal and
     * the set-aside columns go too, and with them the way back.
     *
     * @throws dev.sluice.engine.spec.SpecException (exit 2) when a step cannot run lock-safe on this table
     */
    public FinishResult finish(String name, JobSpec given, boolean purge, String by, Audit.Entry audit)
            throws SQLException {
        try (Launcher.RunnerHold hold = launcher.new RunnerHold(name)) {
            if (hold.lock() == null) {
                return FinishResult.of(
                        FinishResult.Outcome.NOT_DONE,
                        "job " + name + " is running" + launcher.holder(name) + "; finish it when it is done");
            }
            JobStatus s = withSource(context.status(name));
            Optional<JobSpec> recorded = context.recordedSpec(name);
            if (recorded.isEmpty()) {
                return FinishResult.of(
                        FinishResult.Outcome.NOT_DONE,
                        "job " + name + " cannot finish: it has never run on this database");
            }
            JobSpec spec = given == null ? recorded.get() : recorded.get().tunedBy(given);
            Map<Integer, Ledger.Entry> ledger;
            try (Connection c = dataSource.getConnection()) {
                ledger = new Ledger(schema).read(c, name);
            }
            if (ledger.values().stream().anyMatch(e -> e.state() == Ledger.State.REVERSED)
                    && ledger.values().stream().anyMatch(e -> e.state() != Ledger.State.REVERSED)) {
                return FinishResult.of(
                        FinishResult.Outcome.NOT_DONE,
                        "job " + name + "'s rollback has reversed some of its contract steps: continue it ('rollback "
                                + name + "') before anything else");
            }
            if (s.state() == JobStatus.State.FINISHED) {
                if (!purge) {
                    return FinishResult.of(
                            FinishResult.Outcome.ALREADY_FINISHED,
                            "job " + name + " is already finished"
                                    + (context.runs().purged(name) ? " and purged" : ""));
                }
                // Purged or not: a purge stopped half way is finished by running it again (each of its drops is
                // idempotent).
                audit.begin();
                return purged(
                        name,
                        spec,
                        s,
                        List.of(),
                        FinishResult.Outcome.ALREADY_FINISHED,
                        "job " + name + " was FINISHED");
            }
            // The keys the application changes go on being logged until the trigger goes: finish re-applies the last
            // of them itself, with the application's writes held for that moment (see SyncInstaller.drop).
            Optional<String> why = notDone(s, null);
            if (why.isPresent()) {
                return FinishResult.of(FinishResult.Outcome.NOT_DONE, "job " + name + " cannot finish: " + why.get());
            }
            // A killed finish's statement still running in the server ends before this one looks at the catalog.
            ContractSteps contract = new ContractSteps(dataSource, schema, spec);
            contract.awaitEarlier();
            context.checkContract(spec); // every step against the catalog, before anything changes (exit 2)
            audit.begin(); // past its checks: recorded before it changes anything
            Optional<SyncInstaller.Installed> trigger;
            try {
                trigger = new SyncInstaller(schema, LOG::warn)
                        .drop(dataSource, context.sourceOf(name), name, lastKeys(name));
            } catch (LockSafe.NotGranted e) {
                return FinishResult.of(
                        FinishResult.Outcome.FAILED,
                        "job " + name + " is not finished: its sync trigger was not dropped: " + e.getMessage());
            } catch (SyncInstaller.KeysWaiting e) {
                return FinishResult.of(
                        FinishResult.Outcome.NOT_DONE,
                        "job " + name + " is not finished: " + e.getMessage()
                                + " (written while finish waited for the table): run " + name + " again, then finish");
            }
            List<FinishResult.Step> steps = new ArrayList<>();
            try {
                contract.apply(d -> steps.add(
                        new FinishResult.Step(ContractSteps.field(d.index(), d.step()), d.already(), d.seconds())));
            } catch (ContractSteps.Violation e) {
                return notFinished(FinishResult.Outcome.MISMATCHES, name, e.getMessage(), steps);
            } catch (ContractSteps.Blocked e) {
                return notFinished(FinishResult.Outcome.NOT_DONE, name, e.getMessage(), steps);
            } catch (LockSafe.NotGranted e) {
                return notFinished(
                        FinishResult.Outcome.FAILED,
                        name,
                        e.getMessage() + "; finish again to go on from that step",
                        steps);
            }
            context.runs().markFinished(name, by);
            String message = "job " + name + " is FINISHED"
                    + trigger.filter(t -> !t.dropped())
                            .map(t -> ": its sync trigger is dropped from " + t.table())
                            .orElse(" (it had no sync trigger)")
                    + (steps.isEmpty() ? "" : String.format(Locale.ROOT, "; %d contract step(s) done", steps.size()));
            if (purge) {
                return purged(name, spec, s, steps, FinishResult.Outcome.FINISHED, message);
            }
            return new FinishResult(
                    FinishResult.Outcome.FINISHED,
                    message
                            + (spec.undo()
                                    ? "; 'rollback " + name + "' can still undo it until 'finish " + name + " --purge'"
                                    : steps.isEmpty()
                                            ? ""
                                            : "; with undo: false it has no rollback: its contract steps are recorded"
                                                    + " (status), to be undone by hand"),
                    steps,
                    null);
        }
    }

    /** A step stopped finish: the steps done before it stay done (recorded), the job is not FINISHED. */
    private static FinishResult notFinished(
            FinishResult.Outcome outcome, String name, String why, List<FinishResult.Step> steps) {
        return new FinishResult(outcome, "job " + name + " is not finished: " + why, steps, null);
    }

    /** Drops the journal and the set-aside columns of a FINISHED job: no way back after it. */
    private FinishResult purged(
            String name,
            JobSpec spec,
            JobStatus s,
            List<FinishResult.Step> steps,
            FinishResult.Outcome outcome,
            String message)
            throws SQLException {
        // The way back goes first in the record: from here on rollback refuses, whatever the drops below come to (a
        // kill between them leaves a purge that 'finish --purge' finishes, never a rollback over half a journal).
        context.runs().markPurged(name);
        List<String> columns;
        try {
            columns = new ContractSteps(dataSource, schema, spec).purge();
        } catch (LockSafe.NotGranted e) {
            return new FinishResult(
                    FinishResult.Outcome.FAILED,
                    message + ", but not purged: " + e.getMessage() + "; purge again",
                    steps,
                    null);
        }
        long entries = s.undo() == null ? 0 : Journals.purge(dataSource, schema, name);
        return new FinishResult(
                outcome,
                message + "; purged: "
                        + (s.undo() == null
                                ? "it kept no undo journal"
                                : String.format(
                                        Locale.ROOT,
                                        "its undo journal (%,d rows in %,d chunks) is dropped",
                                        s.undo().rows(),
                                        entries))
                        + (columns.isEmpty()
                                ? ""
                                : ", the columns set aside are dropped (" + String.join(", ", columns) + ")")
                        + ": it can no longer be rolled back",
                steps,
                null);
    }

    /**
     * Whether a job that is to start must wait for the jobs its {@code after} names: each must be COMPLETED or
     * FINISHED with a clean validation. A cycle through the recorded specs of those jobs is refused.
     *
     * @return the refusal (not runnable now, naming the job waited for), or empty when it may start
     * @throws dev.sluice.engine.spec.SpecException (exit 2) when the jobs wait for each other in a cycle
     */
    public Optional<RunResult> waitingFor(JobSpec spec) throws SQLException {
        try {
            AfterCycles.refuse(spec, context::recordedSpec);
        } catch (SQLException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        for (String other : spec.after()) {
            Optional<String> why = notDone(withSource(context.status(other)), Duration.ZERO);
            if (why.isPresent()) {
                return Optional.of(RunResult.of(
                        RunResult.Outcome.NOT_RUNNABLE,
                        "job " + spec.name() + " waits for job " + other + " (after), which is not done: "
                                + why.get()));
            }
        }
        return Optional.empty();
    }

    /**
     * How finish re-applies the keys a job's trigger logged: the backlog first, without holding the table, then, as the
     * trigger is dropped with the application's writes held, the last ones (see {@link SyncInstaller#drop}).
     */
    private SyncInstaller.FinalDrain lastKeys(String name) throws SQLException {
        Optional<JobSpec> spec = context.recordedSpec(name);
        if (spec.isEmpty() || spec.get().sync() != JobSpec.Sync.TRIGGER) {
            return SyncInstaller.FinalDrain.NONE;
        }
        Prepared prepared = context.plan(spec.get());
        if (prepared.sync() == null || prepared.sync().kind() != SyncDefinition.Kind.LOG) {
            return SyncInstaller.FinalDrain.NONE;
        }
        launcher.sync().drain(prepared);
        KeyLogDrain drain = new KeyLogDrain(prepared.sync().names(), prepared.plan(), prepared.source());
        if (prepared.source() == null) {
            return c -> log(name, drain.drainAll(c));
        }
        // A cross-database copy: its log and trigger are in the source, held by the connection; the keys are claimed
        // there and written into the target in transactions of their own.
        JobSpec.Timeouts t = spec.get().timeouts();
        ChunkTimeouts timeouts = new ChunkTimeouts(t.lock(), t.statement());
        return c -> {
            long total = 0;
            for (long drained = drain.drain(dataSource, timeouts);
                    drained > 0;
                    drained = drain.drain(dataSource, timeouts)) {
                total += drained;
            }
            log(name, total);
        };
    }

    private static void log(String name, long keys) {
        if (keys > 0) {
            LOG.info(
                    "job {}: re-applied the last {} keys the application changed as its trigger was dropped",
                    name,
                    keys);
        }
    }

    /** Whether every key waiting in the job's key log was logged within {@code lag}. */
    public static boolean withinLag(JobStatus.Sync sync, Duration lag) {
        return lag == null
                || (!lag.isZero()
                        && sync.oldestPendingSeconds() != null
                        && sync.oldestPendingSeconds() <= lag.toMillis() / 1000.0);
    }

    /**
     * A cross-database copy's trigger and key log are in its source, which status does not reach: asked there, so
     * that neither a missing trigger nor keys still waiting pass for done.
     */
    private JobStatus withSource(JobStatus s) throws SQLException {
        if (s.sync() == null || s.sync().dropped() || s.sync().pendingKeys() != null) {
            return s;
        }
        DataSource source = context.sourceOf(s.job());
        Optional<SyncInstaller.Installed> recorded;
        try (Connection c = dataSource.getConnection()) {
            recorded = SyncInstaller.read(c, schema, s.job());
        }
        if (source == null || recorded.isEmpty() || !recorded.get().inSource()) {
            return s;
        }
        try (Connection c = source.getConnection()) {
            SyncInstaller.Backlog backlog = SyncInstaller.backlog(c, recorded.get());
            return s.withSync(new JobStatus.Sync(
                    s.sync().kind(),
                    s.sync().table(),
                    SyncInstaller.present(c, recorded.get()),
                    false,
                    null,
                    backlog.keys(),
                    backlog.oldestSeconds()));
        }
    }

    /**
     * Why the job is not done, or empty when it is.
     *
     * @param syncLag how long the oldest key in a sync key log may have waited (a drain keeps the rows in step, the
     *                application keeps writing): keys logged within it do not make a job not done; null: any key
     *                (finish re-applies them itself)
     */
    public static Optional<String> notDone(JobStatus s, Duration syncLag) {
        String job = s.job();
        if (s.state() == JobStatus.State.FINISHED) {
            return Optional.empty();
        }
        if (s.state() == JobStatus.State.NOT_STARTED) {
            return Optional.of("it has never run on this database");
        }
        if (s.state() != JobStatus.State.COMPLETED) {
            String why = s.lastError() == null
                    ? (s.next() == null ? null : s.next().clause())
                    : s.lastError() + (s.next() == null ? "" : "; " + s.next().clause());
            return Optional.of("it is " + s.state() + (why == null ? "" : " (" + why + ")"));
        }
        JobStatus.Validation v = s.validation();
        if (v == null) {
            return Optional.of("it has never been validated: "
                    + new NextStep(NextStep.Action.VALIDATE_AGAIN, job).command()
                    + " checks it, by the spec's validate rules or its transformer's own check (without either,"
                    + " nothing proves its rows right)");
        }
        if (!v.complete()) {
            return Optional.of("its last validation did not check every row ("
                    + NextStep.continues(JobStatus.Work.VALIDATION, job).clause() + ")");
        }
        if (v.mismatches() > 0) {
            return Optional.of(String.format(
                    Locale.ROOT,
                    "its last validation found %,d mismatches (%s lists them)",
                    v.mismatches(),
                    new NextStep(NextStep.Action.LIST_MISMATCHES, job).command()));
        }
        JobStatus.Sync sync = s.sync();
        if (sync != null && !sync.dropped() && !sync.installed()) {
            return Optional.of("its sync trigger is not on " + sync.table() + ", so rows written meanwhile are not kept"
                    + " in step: run " + job + " again to install it, then validate");
        }
        if (sync != null && sync.pendingKeys() != null && sync.pendingKeys() > 0 && !withinLag(sync, syncLag)) {
            return Optional.of(String.format(
                    Locale.ROOT,
                    "%,d rows changed by the application are not re-applied"
                            + " yet%s: keep them in step ('run %s --keep-in-step', or serve), or allow for the drain's lag"
                            + " ('require --sync-lag 30s')",
                    sync.pendingKeys(),
                    sync.oldestPendingSeconds() == null
                            ? ""
                            : String.format(
                                    Locale.ROOT,
                                    " (the oldest waiting %,.0f s%s)",
                                    sync.oldestPendingSeconds(),
                                    syncLag.isZero() ? "" : ", more than " + Durations.format(syncLag)),
                    job));
        }
        return Optional.empty();
    }
}
