package dev.sluice.engine.launch;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;

import javax.sql.DataSource;

import dev.sluice.engine.StopSignal;
import dev.sluice.engine.checkpoint.JobRuns;
import dev.sluice.engine.checkpoint.Work;
import dev.sluice.engine.chunk.ChunkTimeouts;
import dev.sluice.engine.chunk.Failures;
import dev.sluice.engine.control.Reconnection;
import dev.sluice.engine.control.RunnerLock;
import dev.sluice.engine.preflight.Prepared;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.sync.KeyLogDrain;
import dev.sluice.engine.sync.LockSafe;
import dev.sluice.engine.sync.SyncDefinition;
import dev.sluice.engine.sync.SyncInstaller;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sync trigger's part of a run: installed (lock-safe) before the first chunk and checked before each later
 * run; its key log drained by every later run and before every validation, which does not count the keys still
 * waiting in it as mismatches (they are behind, not wrong).
 */
public final class SyncStep {

    private static final Logger LOG = LoggerFactory.getLogger(SyncStep.class);

    private final DataSource dataSource;
    private final JobRuns runs;
    private final SyncInstaller installer;
    private final String schema;

    public SyncStep(DataSource dataSource, JobRuns runs, String schema) {
        this.dataSource = dataSource;
        this.runs = runs;
        this.schema = schema;
        this.installer = new SyncInstaller(schema, LOG::warn);
    }

    /**
     * Installs the backfill's trigger unless it is there; a trigger that cannot be installed fails the job before
     * anything is written.
     *
     * @return why it could not be installed, or null
     */
    public String install(Work work) throws SQLException {
        if (work.kind() != Work.Kind.BACKFILL || work.prepared().sync() == null) {
            return null;
        }
        runs.ensureSchema();
        SyncDefinition sync = work.prepared().sync();
        try {
            if (installer.ensure(dataSource, work.prepared().source(), sync)) {
                LOG.info("job {}: sync trigger installed on {}", work.jobName(), sync.table());
            }
            return null;
        } catch (LockSafe.NotGranted e) {
            return "job " + work.jobName() + ": its sync trigger is not installed, so no chunk ran: " + e.getMessage();
        }
    }

    /**
     * For a job that is already complete (every later run): its trigger installed again if it went, and its key log
     * drained. A failure is logged, not thrown: the job's result stands, and status says what is missing.
     */
    public void keepInStep(Prepared prepared) {
        try {
            Optional<SyncInstaller.Installed> recorded = recorded(prepared);
            boolean specChanged = runs.last(prepared.spec().name())
                    .map(run -> Launcher.semanticsChanged(run, prepared.spec()))
                    .orElse(false);
            if (recorded.isPresent()
                    && !recorded.get().digest().equals(prepared.sync().digest())
                    && specChanged) {
                LOG.warn(
                        "job {}: its spec changed since it completed; its sync trigger is left as it was installed"
                                + " ('run {} --again' applies the new spec)",
                        prepared.spec().name(),
                        prepared.spec().name());
                return;
            } // the same spec, another trigger: one an earlier Sluice installed, replaced below
            String refused = install(Work.backfill(prepared));
            if (refused != null) {
                LOG.warn(refused);
            }
            drain(prepared);
        } catch (SQLException | RuntimeException e) {
            LOG.warn(
                    "job {}: its sync trigger was not checked: {}",
                    prepared.spec().name(),
                    Failures.describe(e));
        }
    }

    /**
     * Re-applies the job to the keys its trigger logged, in transactions of their own; not after finish.
     *
     * @return the keys re-applied
     */
    public long drain(Prepared prepared) throws SQLException {
        return drain(prepared, KeyLogDrain.LAST_STEPS);
    }

    private long drain(Prepared prepared, int steps) throws SQLException {
        if (!logsKeys(prepared)) {
            return 0;
        }
        JobSpec.Timeouts t = prepared.spec().timeouts();
        long drained = new KeyLogDrain(prepared.sync().names(), prepared.plan(), prepared.source())
                .drain(dataSource, new ChunkTimeouts(t.lock(), t.statement()), steps);
        if (drained > 0) {
            LOG.info(
                    "job {}: re-applied {} keys the application changed",
                    prepared.spec().name(),
                    drained);
        }
        return drained;
    }

    // A round holds the job's lock for a few batches of keys at most (about a second): a verb that needs the lock
    // (finish, rollback, a run) waits for the round to end rather than finding the job busy (see Launcher.RunnerHold).
    private static final int ROUND_STEPS = 5;

    /**
     * One round of keeping a job's rows in step after its pass: its key log drained under the job's runner lock,
     * taken for the round only (so that finish, or a run, gets it between rounds).
     *
     * @return the keys re-applied; -1 when another runner holds the job, or its trigger no longer logs keys
     *         (finished, or the job has none)
     */
    public long drainRound(Prepared prepared) throws SQLException {
        if (!logsKeys(prepared)) {
            return -1;
        }
        try (RunnerLock lock = RunnerLock.tryAcquire(dataSource, prepared.spec().name())) {
            return lock == null ? -1 : drain(prepared, ROUND_STEPS);
        }
    }

    /**
     * Keeps a completed job's rows in step for as long as its trigger logs keys: a round every {@code every}, until
     * {@code stop} is requested or finish drops the trigger. A lost database is waited out like a run's.
     *
     * @return the keys re-applied
     */
    public long follow(Prepared prepared, Duration every, StopSignal stop) throws SQLException {
        long total = 0;
        String name = prepared.spec().name();
        while (!stop.requested()) {
            try {
                if (!logsKeys(prepared)) {
                    LOG.info("job {}: its trigger no longer logs keys (finished): nothing more to keep in step", name);
                    return total;
                }
                total += Math.max(0, drainRound(prepared));
            } catch (SQLException e) {
                if (!Reconnection.isLost(e)) {
                    throw e;
                }
                LOG.warn(
                        "job {}: lost the database while keeping rows in step ({}); trying again",
                        name,
                        Failures.describe(e));
            }
            if (!stop.sleepUntil(System.nanoTime() + every.toNanos())) {
                break;
            }
        }
        return total;
    }

    /**
     * The rows a validation leaves out: those whose keys wait in the key log (one database only; a cross-database
     * copy's log is in its source). Null when there is no such log.
     */
    public String pending(Prepared prepared) throws SQLException {
        if (!logsKeys(prepared) || prepared.sync().inSource()) {
            return null;
        }
        String keys = prepared.keyset().selectList();
        return "(" + keys + ") IN (SELECT " + keys + " FROM "
                + prepared.sync().names().log() + ")";
    }

    /** Whether the job's trigger logs keys, and its log is still there (finish drops it). */
    private boolean logsKeys(Prepared prepared) throws SQLException {
        if (prepared.sync() == null || prepared.sync().kind() != SyncDefinition.Kind.LOG) {
            return false;
        }
        Optional<SyncInstaller.Installed> recorded = recorded(prepared);
        return recorded.isPresent() && !recorded.get().dropped();
    }

    private Optional<SyncInstaller.Installed> recorded(Prepared prepared) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            return SyncInstaller.read(c, schema, prepared.spec().name());
        }
    }
}
