package dev.sluice.engine;

import java.sql.SQLException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import javax.sql.DataSource;

import dev.sluice.engine.checkpoint.JobRuns;
import dev.sluice.engine.checkpoint.Run;
import dev.sluice.engine.checkpoint.RunState;
import dev.sluice.engine.checkpoint.Work;
import dev.sluice.engine.control.JobStatus;
import dev.sluice.engine.preflight.Prepared;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.sync.LockSafe;
import dev.sluice.engine.sync.SyncInstaller;
import dev.sluice.engine.undo.Restorer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code rollback}: restores what a job overwrote from its undo journal, newest chunk first, as work of its own
 * ({@code NAME.rollback}) under the job's runner lock, throttled, health-gated, pausable and resumable like the
 * backfill. Its sync trigger goes first (lock-safe), so that the application's writes do not fight the rollback;
 * an unfinished backfill is abandoned, so that nobody resumes it over restored rows.
 */
final class Rollback {

    private static final Logger LOG = LoggerFactory.getLogger(Rollback.class);

    /** Prepares a spec (preflight). */
    @FunctionalInterface
    interface Planner {
        Prepared plan(JobSpec spec) throws SQLException;
    }

    private final DataSource dataSource;
    private final String schema;
    private final Launcher launcher;
    private final Contract.Statuses statuses;
    private final Planner planner;
    private final Contract.Sources sources;

    Rollback(DataSource dataSource, String schema, Launcher launcher, Contract.Statuses statuses, Planner planner,
             Contract.Sources sources) {
        this.dataSource = dataSource;
        this.schema = schema;
        this.launcher = launcher;
        this.statuses = statuses;
        this.planner = planner;
        this.sources = sources;
    }

    /**
     * @param spec  the spec the job ran with (its recorded one)
     * @param force restore rows changed since Sluice wrote them too
     * @throws SpecException (exit 2) when the job kept no journal ({@code undo: false})
     */
    RunResult run(JobSpec spec, RunOptions options, boolean force) throws SQLException {
        String name = spec.name();
        if (!spec.undo()) {
            throw new SpecException("undo", "job " + name + " ran with undo: false: it kept no journal, so there is"
                    + " nothing to restore from");
        }
        long started = System.nanoTime();
        try (Launcher.Hold hold = launcher.new Hold(name)) {
            if (hold.lock() == null) {
                return RunResult.of(RunResult.Outcome.NOT_RUNNABLE, "job " + name + " is running" + launcher.holder(name)
                        + "; pause or stop it first ('pause " + name + "'), then roll it back");
            }
            JobStatus status = statuses.read(name).get(0);
            if (status.state() == JobStatus.State.NOT_STARTED) {
                return RunResult.of(RunResult.Outcome.NOT_RUNNABLE, "job " + name + " has never run: nothing to roll back");
            }
            if (status.state() == JobStatus.State.FINISHED) {
                return RunResult.of(RunResult.Outcome.NOT_RUNNABLE, "job " + name + " is finished: its journal was purged"
                        + " by 'finish', and it cannot be rolled back");
            }
            String refused = removeTrigger(name);
            if (refused != null) {
                return RunResult.of(RunResult.Outcome.NOT_RUNNABLE, refused);
            }
            JobRuns runs = new JobRuns(dataSource, schema);
            if (runs.last(name).map(r -> !r.state().ended()).orElse(false)) {
                runs.cancel(name); // restored rows must not be written again by a resumed backfill
            }
            Prepared prepared = planner.plan(spec);
            Launcher.Launched launched = launcher.launch(hold, Work.rollback(prepared, force), options,
                    Launcher.Decider.AUXILIARY, null);
            if (launched.result() != null) {
                return launched.result();
            }
            return result(launched.run(), name, started);
        }
    }

    /**
     * What a run must know of a job's rollbacks: a rolled-back job starts again only with {@code --again}; a finished
     * job does not start again. Reads only.
     *
     * @return why the run is refused, or null
     */
    static String beforeRun(String name, JobStatus.State state, boolean again) {
        if (state == JobStatus.State.FINISHED && again) {
            return "job " + name + " is finished (its sync trigger and journal dropped): run the work again as a job of"
                    + " another name";
        }
        if (state == JobStatus.State.ROLLED_BACK && !again) {
            return "job " + name + " is rolled back; 'run " + name + " --again' starts it anew";
        }
        return null;
    }

    /**
     * Under the job's lock, as a run starts anew ({@code newRun}) or continues: the journal must stay restorable with
     * the job's spec. A new run after a completed rollback forgets what the rollback left (rows changed by others,
     * which belong to the old run); after an unfinished one it is refused (the rollback's remaining entries hold the
     * only copy of the rows' earlier values). A run whose spec writes otherwise than the one the journal's entries
     * were written with is refused while entries are left.
     *
     * @return why the run is refused, or null
     * @throws SpecException (exit 2) naming the changed field
     */
    RunResult beforeWrite(JobSpec spec, Run lastBackfill, boolean newRun) throws SQLException {
        String name = spec.name();
        Optional<Run> rollback = new JobRuns(dataSource, schema).last(Work.Kind.ROLLBACK.jobOf(name));
        if (newRun && rollback.isPresent() && rollback.get().startedAt() != null && lastBackfill.startedAt() != null
                && rollback.get().startedAt().isAfter(lastBackfill.startedAt())) {
            if (rollback.get().state() != RunState.COMPLETED) {
                return RunResult.of(RunResult.Outcome.NOT_RUNNABLE, "job " + name + "'s rollback is unfinished: continue"
                        + " it with 'rollback " + name + "' before running the job again");
            }
            Journals.purge(dataSource, schema, name);
        }
        if (lastBackfill.specDigest() == null || lastBackfill.specDigest().equals(spec.semanticDigest())
                || Journals.entries(dataSource, schema, name) == 0) {
            return null;
        }
        List<String> changed = lastBackfill.spec() == null ? List.of()
                : spec.semantics().changedFrom(lastBackfill.spec().semantics());
        throw new SpecException(changed.isEmpty() ? "" : changed.get(0), "changed since job " + name + "'s undo journal"
                + " was written (" + String.join(", ", changed) + "); a rollback restores with the spec the journal was"
                + " written with: roll the job back first ('rollback " + name + "'), or run it with its earlier spec");
    }

    private static RunResult result(Run run, String name, long started) {
        RunResult r = Results.of(run, started);
        if (run.state() != RunState.COMPLETED) {
            return new RunResult(r.outcome(), r.message().replace("job " + run.job(), "rollback of " + name)
                    .replace("resume it with 'resume " + run.job() + "'", "continue it with 'rollback " + name + "'"),
                    r.rows(), r.written(), r.chunks(), r.seconds());
        }
        long changed = Restorer.conflicts(run.notes()::get);
        if (changed > 0) {
            return new RunResult(RunResult.Outcome.MISMATCHES, String.format(Locale.ROOT, "job %s rolled back %,d rows;"
                    + " %,d rows changed by others since Sluice wrote them were left as they are ('rollback %s --force'"
                    + " restores them too): %s", name, run.checkpoint().written(), changed, name,
                    String.join("; ", Restorer.samples(run.notes()::get))), r.rows(), r.written(), r.chunks(), r.seconds());
        }
        return new RunResult(RunResult.Outcome.COMPLETED, String.format(Locale.ROOT, "job %s rolled back: %,d rows"
                + " restored from its journal; it is ROLLED_BACK ('run --again' starts it anew)", name,
                run.checkpoint().written()), r.rows(), r.written(), r.chunks(), r.seconds());
    }

    /** Drops the job's sync trigger, lock-safe, forgetting it, so that a later run installs it again. */
    private String removeTrigger(String name) throws SQLException {
        try {
            if (new SyncInstaller(schema, LOG::warn).remove(dataSource, sources.of(name), name)) {
                LOG.info("job {}: sync trigger dropped before the rollback", name);
            }
            return null;
        } catch (LockSafe.NotGranted e) {
            return "job " + name + " was not rolled back: its sync trigger could not be dropped: " + e.getMessage();
        }
    }
}
