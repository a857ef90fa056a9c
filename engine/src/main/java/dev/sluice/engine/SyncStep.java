package dev.sluice.engine;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;

import javax.sql.DataSource;

import dev.sluice.engine.checkpoint.JobRuns;
import dev.sluice.engine.checkpoint.Work;
import dev.sluice.engine.chunk.ChunkTimeouts;
import dev.sluice.engine.chunk.Failures;
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
final class SyncStep {

    private static final Logger LOG = LoggerFactory.getLogger(SyncStep.class);

    private final DataSource dataSource;
    private final JobRuns runs;
    private final SyncInstaller installer;
    private final String schema;

    SyncStep(DataSource dataSource, JobRuns runs, String schema) {
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
    String install(Work work) throws SQLException {
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
    void keepInStep(Prepared prepared) {
        try {
            Optional<SyncInstaller.Installed> recorded = recorded(prepared);
            boolean specChanged = runs.last(prepared.spec().name())
                    .map(run -> Launcher.semanticsChanged(run, prepared.spec())).orElse(false);
            if (recorded.isPresent() && !recorded.get().digest().equals(prepared.sync().digest()) && specChanged) {
                LOG.warn("job {}: its spec changed since it completed; its sync trigger is left as it was installed"
                        + " ('run --again' applies the new spec)", prepared.spec().name());
                return;
            } // the same spec, another trigger: one an earlier Sluice installed, replaced below
            String refused = install(Work.backfill(prepared));
            if (refused != null) {
                LOG.warn(refused);
            }
            drain(prepared);
        } catch (SQLException | RuntimeException e) {
            LOG.warn("job {}: its sync trigger was not checked: {}", prepared.spec().name(), Failures.describe(e));
        }
    }

    /** Re-applies the job to the keys its trigger logged, in transactions of their own; not after finish. */
    void drain(Prepared prepared) throws SQLException {
        if (!logsKeys(prepared)) {
            return;
        }
        JobSpec.Timeouts t = prepared.spec().timeouts();
        long drained = new KeyLogDrain(prepared.sync().names(), prepared.plan(), prepared.source())
                .drain(dataSource, new ChunkTimeouts(t.lock(), t.statement()));
        if (drained > 0) {
            LOG.info("job {}: re-applied {} keys the application changed", prepared.spec().name(), drained);
        }
    }

    /**
     * The rows a validation leaves out: those whose keys wait in the key log (one database only; a cross-database
     * copy's log is in its source). Null when there is no such log.
     */
    String pending(Prepared prepared) throws SQLException {
        if (!logsKeys(prepared) || prepared.sync().inSource()) {
            return null;
        }
        String keys = prepared.keyset().selectList();
        return "(" + keys + ") IN (SELECT " + keys + " FROM " + prepared.sync().names().log() + ")";
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
