package dev.sluice.engine.rollback;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import javax.sql.DataSource;

import dev.sluice.engine.JobStatus;
import dev.sluice.engine.NextStep;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.checkpoint.JobRuns;
import dev.sluice.engine.checkpoint.Run;
import dev.sluice.engine.checkpoint.RunState;
import dev.sluice.engine.checkpoint.Work;
import dev.sluice.engine.contract.ContractSteps;
import dev.sluice.engine.contract.Ledger;
import dev.sluice.engine.control.Audit;
import dev.sluice.engine.launch.EngineContext;
import dev.sluice.engine.launch.Journals;
import dev.sluice.engine.launch.Launcher;
import dev.sluice.engine.launch.RunResults;
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
public final class Rollback {

    private static final Logger LOG = LoggerFactory.getLogger(Rollback.class);

    private final DataSource dataSource;
    private final String schema;
    private final Launcher launcher;
    private final EngineContext context;

    public Rollback(EngineContext context) {
        this.context = context;
        this.dataSource = context.dataSource();
        this.schema = context.schema();
        this.launcher = context.launcher();
    }

    /**
     * @param spec  the spec the job ran with (its recorded one)
     * @param force restore rows changed since Sluice wrote them too
     * @throws SpecException (exit 2) when the job kept no journal ({@code undo: false})
     */
    public RunResult run(JobSpec spec, RunOptions options, boolean force, Audit.Entry audit) throws SQLException {
        String name = spec.name();
        if (!spec.undo()) {
            throw new SpecException(
                    "undo",
                    "job " + name + " ran with undo: false: it kept no journal, so there is"
                            + " nothing to restore from");
        }
        long started = System.nanoTime();
        try (Launcher.RunnerHold hold = launcher.new RunnerHold(name)) {
            if (hold.lock() == null) {
                return RunResult.of(
                        RunResult.Outcome.NOT_RUNNABLE,
                        "job " + name + " is running" + launcher.holder(name) + "; pause or stop it first ('pause "
                                + name + "'), then roll it back");
            }
            JobStatus status = context.status(name);
            if (status.state() == JobStatus.State.NOT_STARTED) {
                return RunResult.of(
                        RunResult.Outcome.NOT_RUNNABLE, "job " + name + " has never run: nothing to roll back");
            }
            JobRuns runs = context.runs();
            if (status.state() == JobStatus.State.FINISHED && runs.purged(name)) {
                return RunResult.of(
                        RunResult.Outcome.NOT_RUNNABLE,
                        "job " + name + " is finished and purged: 'finish --purge' dropped its undo journal and the"
                                + " columns its contract set aside, so it cannot be rolled back");
            }
            audit.begin(); // past its checks, the lock held: recorded before its first change
            String unreversed = reverseContract(spec);
            if (unreversed != null) {
                return RunResult.of(RunResult.Outcome.FAILED, unreversed);
            }
            if (status.state() == JobStatus.State.FINISHED) {
                runs.unmarkFinished(name);
                status = context.status(name);
            }
            String refused = removeTrigger(name);
            if (refused != null) {
                return RunResult.of(RunResult.Outcome.NOT_RUNNABLE, refused);
            }
            if (runs.last(name).map(r -> !r.state().ended()).orElse(false)) {
                runs.cancel(name); // restored rows must not be written again by a resumed backfill
            }
            Prepared prepared = context.prepare(spec);
            long journaled = status.undo() == null ? 0 : status.undo().rows();
            Launcher.Launched launched = launcher.launch(
                    hold, Work.rollback(prepared, force, journaled), options, Launcher.Decider.AUXILIARY, null);
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
     * @return the refusal, or empty when the run may go on
     */
    public static Optional<RunResult> beforeRun(String name, JobStatus.State state, boolean again) {
        if (state == JobStatus.State.FINISHED && again) {
            return Optional.of(RunResult.of(
                    RunResult.Outcome.NOT_RUNNABLE,
                    "job " + name + " is finished: roll it back first, or run the work again as a job of another"
                            + " name"));
        }
        if (state == JobStatus.State.ROLLED_BACK && !again) {
            return Optional.of(
                    RunResult.of(RunResult.Outcome.NOT_RUNNABLE, "job " + name + " is rolled back", startOver(name)));
        }
        return Optional.empty();
    }

    /** A rolled-back job runs again only anew, on every row. */
    private static NextStep startOver(String name) {
        return new NextStep(NextStep.Action.RUN_ANEW, name);
    }

    /**
     * Under the job's lock, before a run of a job whose last backfill ended: a rollback since then decides. One that is
     * unfinished, or left rows changed by others, refuses every run (its entries hold the only copy of those rows'
     * earlier values); a completed one refuses a run without {@code --again}, and a new run forgets its journal.
     *
     * @return why the run is refused, or null
     */
    public RunResult afterRollback(String name, Run lastBackfill, boolean again) throws SQLException {
        Optional<Run> rollback = context.runs().last(Work.Kind.ROLLBACK.jobOf(name));
        if (rollback.isEmpty()
                || rollback.get().startedAt() == null
                || lastBackfill.startedAt() == null
                || !rollback.get().startedAt().isAfter(lastBackfill.startedAt())) {
            return null;
        }
        Run rb = rollback.get();
        if (rb.state() != RunState.COMPLETED) {
            return RunResult.of(
                    RunResult.Outcome.NOT_RUNNABLE,
                    "job " + name + "'s rollback is unfinished: continue it before running the job again",
                    NextStep.continues(JobStatus.Work.ROLLBACK, name));
        }
        long left = Restorer.conflicts(rb.notes()::get);
        if (left > 0) {
            return RunResult.of(
                    RunResult.Outcome.NOT_RUNNABLE,
                    String.format(
                            Locale.ROOT,
                            "job %s's rollback left %,d rows changed by others since Sluice wrote them, whose earlier"
                                    + " values only its journal holds: restore them before running the job again",
                            name,
                            left),
                    NextStep.force(name));
        }
        if (!again) {
            return RunResult.of(RunResult.Outcome.NOT_RUNNABLE, "job " + name + " is rolled back", startOver(name));
        }
        Journals.purge(dataSource, schema, name);
        return null;
    }

    /**
     * Under the job's lock, as a run starts or continues: the journal must stay restorable with the job's spec, so a
     * run whose spec writes otherwise than the one its entries were written with is refused while entries are left.
     *
     * @throws SpecException (exit 2) naming the changed field
     */
    public void beforeWrite(JobSpec spec, Run lastBackfill) throws SQLException {
        String name = spec.name();
        if (!Launcher.semanticsChanged(lastBackfill, spec) || Journals.entries(dataSource, schema, name) == 0) {
            return;
        }
        throw Launcher.changedSince(
                lastBackfill,
                spec,
                "'s undo journal was written",
                "a rollback restores with the spec"
                        + " the journal was written with: roll the job back first ('rollback " + name
                        + "'), or run it with its"
                        + " earlier spec");
    }

    private static RunResult result(Run run, String name, long started) {
        RunResult r = RunResults.of(run, Work.Kind.ROLLBACK, name, started);
        if (run.state() != RunState.COMPLETED) {
            return r;
        }
        long changed = Restorer.conflicts(run.notes()::get);
        long gone = Restorer.gone(run.notes()::get);
        long byTrigger = Restorer.byTrigger(run.notes()::get);
        // Rows the application wrote while the sync trigger was installed: the trigger computed them, so they are the
        // job's work too, journaled by the trigger and restored with the rest.
        String deleted = (byTrigger == 0
                        ? ""
                        : String.format(
                                Locale.ROOT,
                                " (%,d of them written by its sync trigger" + " as the application wrote them)",
                                byTrigger))
                + (gone == 0
                        ? ""
                        : String.format(Locale.ROOT, "; %,d rows deleted by others since were not brought back", gone));
        if (changed > 0) {
            List<String> samples = Restorer.samples(run.notes()::get);
            return new RunResult(
                    RunResult.Outcome.MISMATCHES,
                    String.format(
                            Locale.ROOT,
                            "job %s rolled back %,d rows%s; %,d rows changed by others since Sluice wrote them were"
                                    + " left as they are; the first %d: %s",
                            name,
                            run.checkpoint().written(),
                            deleted,
                            changed,
                            samples.size(),
                            String.join("; ", samples)),
                    r.rows(),
                    r.written(),
                    r.chunks(),
                    r.seconds(),
                    NextStep.force(name));
        }
        return new RunResult(
                RunResult.Outcome.COMPLETED,
                String.format(
                        Locale.ROOT,
                        "job %s rolled back: %,d rows restored from its journal%s; it is ROLLED_BACK",
                        name,
                        run.checkpoint().written(),
                        deleted),
                r.rows(),
                r.written(),
                r.chunks(),
                r.seconds(),
                startOver(name));
    }

    /**
     * Reverses the contract steps {@code finish} ran (or began), newest first, each lock-safe and recorded, before any
     * row is restored: a NOT NULL or a constraint would refuse the rows the journal gives back.
     *
     * @return why they could not all be reversed (a rollback again goes on from there), or null
     */
    private String reverseContract(JobSpec spec) throws SQLException {
        String name = spec.name();
        try {
            int reversed = new ContractSteps(dataSource, schema, spec).reverse();
            if (reversed > 0) {
                LOG.info("job {}: {} contract step(s) reversed before the rollback", name, reversed);
            }
            try (Connection c = dataSource.getConnection()) {
                new Ledger(schema).forget(c, name);
            }
            return null;
        } catch (ContractSteps.Violation | ContractSteps.Blocked | LockSafe.NotGranted e) {
            return "job " + name + " was not rolled back: its contract could not be reversed: " + e.getMessage()
                    + "; roll it back again to go on";
        }
    }

    /** Drops the job's sync trigger, lock-safe, forgetting it, so that a later run installs it again. */
    private String removeTrigger(String name) throws SQLException {
        try {
            if (new SyncInstaller(schema, LOG::warn).remove(dataSource, context.sourceOf(name), name)) {
                LOG.info("job {}: sync trigger dropped before the rollback", name);
            }
            return null;
        } catch (LockSafe.NotGranted e) {
            return "job " + name + " was not rolled back: its sync trigger could not be dropped: " + e.getMessage();
        }
    }
}
