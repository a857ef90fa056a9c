package dev.sluice.engine.launch;

import java.util.Locale;

import dev.sluice.engine.JobStatus;
import dev.sluice.engine.NextStep;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.StopSignal;
import dev.sluice.engine.checkpoint.Checkpoint;
import dev.sluice.engine.checkpoint.Run;
import dev.sluice.engine.checkpoint.RunState;
import dev.sluice.engine.checkpoint.Work;

/**
 * What a run came to, in the words {@code run} prints: one line per outcome, with the way on for the work it was (a
 * backfill, a validation, a repair, a rollback: each is continued by its own command, see {@link NextStep}).
 */
public final class RunResults {

    private RunResults() {}

    /** A job that had ended before this run: complete (say so), or cancelled (not runnable). */
    public static RunResult finished(Run last, long started) {
        Checkpoint cp = last.checkpoint();
        if (last.state() == RunState.CANCELLED) {
            return new RunResult(
                    RunResult.Outcome.NOT_RUNNABLE,
                    "job " + last.job() + " was cancelled",
                    cp.rows(),
                    cp.written(),
                    cp.chunks(),
                    seconds(started),
                    NextStep.afterCancel(JobStatus.Work.BACKFILL, last.job()));
        }
        return new RunResult(
                RunResult.Outcome.ALREADY_COMPLETE,
                String.format(
                        Locale.ROOT,
                        "job %s is already complete" + " (%,d rows): nothing to do",
                        last.job(),
                        cp.rows()),
                cp.rows(),
                cp.written(),
                cp.chunks(),
                seconds(started));
    }

    /** The backfill this call ran. */
    public static RunResult of(Run run, long started) {
        return of(run, Work.Kind.BACKFILL, run.job(), started);
    }

    /**
     * The work this call ran on job {@code job}.
     *
     * @param kind which work it was: its subject in the message, and the command that continues it
     */
    public static RunResult of(Run run, Work.Kind kind, String job, long started) {
        Checkpoint cp = run.checkpoint();
        JobStatus.Work work = kind.status();
        String subject = switch (kind) {
            case BACKFILL -> "job " + job;
            case VALIDATION -> "validation of " + job;
            case REPAIR -> "repair of " + job;
            case ROLLBACK -> "rollback of " + job;
        };
        RunResult.Outcome outcome;
        String message;
        NextStep next;
        switch (run.state()) {
            case COMPLETED -> {
                outcome = RunResult.Outcome.COMPLETED;
                message = subject + " completed";
                next = null;
            }
            case CANCELLED -> {
                outcome = RunResult.Outcome.STOPPED;
                message = subject + " cancelled after chunk " + cp.chunks() + where(run, kind);
                next = NextStep.afterCancel(work, job);
            }
            case STOPPED -> {
                outcome = RunResult.Outcome.STOPPED;
                String reason = run.stopReason();
                message = subject + (StopSignal.isPause(reason) ? " paused" : " stopped") + " after chunk "
                        + cp.chunks() + where(run, kind);
                next = NextStep.continues(work, job);
            }
            default -> {
                outcome = RunResult.Outcome.FAILED;
                message = subject + " failed: " + (run.failure() == null ? "it did not end cleanly" : run.failure());
                next = NextStep.continues(work, job);
            }
        }
        return new RunResult(outcome, message, cp.rows(), cp.written(), cp.chunks(), seconds(started), next);
    }

    /**
     * Where the work stands: its last key, or with partitions how many there are (each has its own); a rollback's
     * checkpoint is a journal entry, not a key of the table, so it says how far through the journal it is.
     */
    private static String where(Run run, Work.Kind kind) {
        if (kind == Work.Kind.ROLLBACK) {
            return String.format(
                    Locale.ROOT,
                    " (%,d of %,d journaled rows gone through)",
                    run.checkpoint().rows(),
                    run.estimatedRows());
        }
        return run.partitions().size() > 1
                ? " (" + run.partitions().size() + " partitions; see status)"
                : " (last key " + run.checkpoint().lastKey() + ")";
    }

    public static double seconds(long started) {
        return (System.nanoTime() - started) / 1e9;
    }
}
