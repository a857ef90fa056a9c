package dev.sluice.engine.contract;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import javax.sql.DataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.JobNotDoneException;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.NextStep;
import dev.sluice.engine.chunk.ChunkTimeouts;
import dev.sluice.engine.launch.EngineContext;
import dev.sluice.engine.launch.Journals;
import dev.sluice.engine.launch.Launcher;
import dev.sluice.engine.preflight.Prepared;
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
public final class Contract {

    private static final Logger LOG = LoggerFactory.getLogger(Contract.class);

    private final DataSource dataSource;
    private final String schema;
    private final Launcher launcher;
    private final EngineContext context;

    public Contract(EngineContext context) {
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

    public Backfill.ControlResult finish(String name, String by) throws SQLException {
        try (Launcher.RunnerHold hold = launcher.new RunnerHold(name)) {
            if (hold.lock() == null) {
                return new Backfill.ControlResult(
                        false, "job " + name + " is running" + launcher.holder(name) + "; finish it when it is done");
            }
            JobStatus s = withSource(context.status(name));
            if (s.state() == JobStatus.State.FINISHED) {
                return new Backfill.ControlResult(true, "job " + name + " is already finished");
            }
            // The keys the application changes go on being logged until the trigger goes: finish re-applies the last
            // of them itself, with the application's writes held for that moment (see SyncInstaller.drop).
            Optional<String> why = notDone(s, null);
            if (why.isPresent()) {
                return new Backfill.ControlResult(false, "job " + name + " cannot finish: " + why.get());
            }
            Optional<SyncInstaller.Installed> trigger;
            try {
                trigger = new SyncInstaller(schema, LOG::warn)
                        .drop(dataSource, context.sourceOf(name), name, lastKeys(name));
            } catch (LockSafe.NotGranted e) {
                return new Backfill.ControlResult(
                        false,
                        "job " + name + " is not finished: its sync trigger was not" + " dropped: " + e.getMessage());
            } catch (SyncInstaller.KeysWaiting e) {
                return new Backfill.ControlResult(
                        false,
                        "job " + name + " is not finished: " + e.getMessage()
                                + " (written while finish waited for the table): run " + name + " again, then finish");
            }
            long entries = s.undo() == null ? 0 : Journals.purge(dataSource, schema, name);
            context.runs().markFinished(name, by);
            return new Backfill.ControlResult(
                    true,
                    "job " + name + " is FINISHED"
                            + trigger.filter(t -> !t.dropped())
                                    .map(t -> ": its sync trigger is dropped from " + t.table())
                                    .orElse(" (it had no sync trigger)")
                            + (s.undo() == null
                                    ? ""
                                    : String.format(
                                            Locale.ROOT,
                                            "; its undo journal (%,d rows in %,d chunks)"
                                                    + " is purged: it can no longer be rolled back",
                                            s.undo().rows(),
                                            entries)));
        }
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
