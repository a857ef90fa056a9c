package dev.sluice.engine;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import javax.sql.DataSource;

import dev.sluice.engine.checkpoint.JobRuns;
import dev.sluice.engine.control.JobStatus;
import dev.sluice.engine.control.NextStep;
import dev.sluice.engine.sync.LockSafe;
import dev.sluice.engine.sync.SyncInstaller;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When the contract step may go on, and Sluice's part of it. A job is done when it is COMPLETED or FINISHED, its
 * last validation checked every row and found no mismatch, and its sync trigger (if it has one) is still keeping
 * rows in step with nothing left to re-apply: one rule for {@code require} and {@code finish}.
 */
final class Contract {

    private static final Logger LOG = LoggerFactory.getLogger(Contract.class);

    /** Reads a job's status. */
    @FunctionalInterface
    interface Statuses {
        List<JobStatus> read(String name) throws SQLException;
    }

    /** The source database of a job's cross-database copy, or null. */
    @FunctionalInterface
    interface Sources {
        DataSource of(String name) throws SQLException;
    }

    private final DataSource dataSource;
    private final String schema;
    private final Launcher launcher;
    private final Statuses statuses;
    private final Sources sources;

    Contract(DataSource dataSource, String schema, Launcher launcher, Statuses statuses, Sources sources) {
        this.dataSource = dataSource;
        this.schema = schema;
        this.launcher = launcher;
        this.statuses = statuses;
        this.sources = sources;
    }

    List<JobStatus> require(String... names) throws SQLException {
        List<JobStatus> done = new ArrayList<>();
        for (String name : names) {
            JobStatus s = withSource(statuses.read(name).get(0));
            Optional<String> why = notDone(s);
            if (why.isPresent()) {
                throw new JobNotDoneException(name, "job " + name + " is not done: " + why.get());
            }
            done.add(s);
        }
        return done;
    }

    Backfill.ControlResult finish(String name, String by) throws SQLException {
        try (Launcher.Hold hold = launcher.new Hold(name)) {
            if (hold.lock() == null) {
                return new Backfill.ControlResult(false, "job " + name + " is running" + launcher.holder(name)
                        + "; finish it when it is done");
            }
            JobStatus s = withSource(statuses.read(name).get(0));
            if (s.state() == JobStatus.State.FINISHED) {
                return new Backfill.ControlResult(true, "job " + name + " is already finished");
            }
            Optional<String> why = notDone(s);
            if (why.isPresent()) {
                return new Backfill.ControlResult(false, "job " + name + " cannot finish: " + why.get());
            }
            Optional<SyncInstaller.Installed> trigger;
            try {
                trigger = new SyncInstaller(schema, LOG::warn).drop(dataSource, sources.of(name), name);
            } catch (LockSafe.NotGranted e) {
                return new Backfill.ControlResult(false, "job " + name + " is not finished: its sync trigger was not"
                        + " dropped: " + e.getMessage());
            } catch (SyncInstaller.KeysWaiting e) {
                return new Backfill.ControlResult(false, "job " + name + " is not finished: " + e.getMessage()
                        + " (written while finish waited for the table): run " + name + " again, then finish");
            }
            long entries = s.undo() == null ? 0 : Journals.purge(dataSource, schema, name);
            new JobRuns(dataSource, schema).markFinished(name, by);
            return new Backfill.ControlResult(true, "job " + name + " is FINISHED" + trigger.filter(t -> !t.dropped())
                    .map(t -> ": its sync trigger is dropped from " + t.table()).orElse(" (it had no sync trigger)")
                    + (s.undo() == null ? "" : String.format(Locale.ROOT, "; its undo journal (%,d rows in %,d chunks)"
                    + " is purged: it can no longer be rolled back", s.undo().rows(), entries)));
        }
    }

    /**
     * A cross-database copy's trigger and key log are in its source, which status does not reach: asked there, so
     * that neither a missing trigger nor keys still waiting pass for done.
     */
    private JobStatus withSource(JobStatus s) throws SQLException {
        if (s.sync() == null || s.sync().dropped() || s.sync().pendingKeys() != null) {
            return s;
        }
        DataSource source = sources.of(s.job());
        Optional<SyncInstaller.Installed> recorded;
        try (Connection c = dataSource.getConnection()) {
            recorded = SyncInstaller.read(c, schema, s.job());
        }
        if (source == null || recorded.isEmpty() || !recorded.get().inSource()) {
            return s;
        }
        try (Connection c = source.getConnection()) {
            return s.withSync(new JobStatus.Sync(s.sync().kind(), s.sync().table(), SyncInstaller.present(c, recorded.get()),
                    false, null, SyncInstaller.pending(c, recorded.get())));
        }
    }

    /** Why the job is not done, or empty when it is. */
    static Optional<String> notDone(JobStatus s) {
        String job = s.job();
        if (s.state() == JobStatus.State.FINISHED) {
            return Optional.empty();
        }
        if (s.state() == JobStatus.State.NOT_STARTED) {
            return Optional.of("it has never run on this database");
        }
        if (s.state() != JobStatus.State.COMPLETED) {
            return Optional.of("it is " + s.state() + (s.lastError() == null ? "" : " (" + s.lastError() + ")"));
        }
        JobStatus.Validation v = s.validation();
        if (v == null) {
            return Optional.of("it has never been validated: " + NextStep.command(JobStatus.Work.VALIDATION, job)
                    + " checks it, by the spec's validate rules or its transformer's own check (without either,"
                    + " nothing proves its rows right)");
        }
        if (!v.complete()) {
            return Optional.of("its last validation did not check every row ("
                    + NextStep.continues(JobStatus.Work.VALIDATION, job) + ")");
        }
        if (v.mismatches() > 0) {
            return Optional.of(String.format(Locale.ROOT, "its last validation found %,d mismatches (%s lists them)",
                    v.mismatches(), NextStep.command(JobStatus.Work.VALIDATION, job)));
        }
        JobStatus.Sync sync = s.sync();
        if (sync != null && !sync.dropped() && !sync.installed()) {
            return Optional.of("its sync trigger is not on " + sync.table() + ", so rows written meanwhile are not kept"
                    + " in step: run " + job + " again to install it, then validate");
        }
        if (sync != null && sync.pendingKeys() != null && sync.pendingKeys() > 0) {
            return Optional.of(String.format(Locale.ROOT, "%,d rows changed by the application are not re-applied"
                    + " yet: run %s again", sync.pendingKeys(), job));
        }
        return Optional.empty();
    }
}
