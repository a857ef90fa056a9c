package dev.sluice.engine;

import java.util.Locale;

/**
 * What a run ended with.
 *
 * @param rows    rows in the key ranges the job has covered, over all its executions
 * @param written rows its writes changed
 * @param chunks  chunks committed, over all executions
 * @param seconds    wall time of this run
 * @param validation the validation after the run, or null if none ran
 * @param next       the way on from here (continue it, repair it, ...), or null when there is none to take
 */
public record RunResult(
        Outcome outcome,
        String message,
        long rows,
        long written,
        long chunks,
        double seconds,
        ValidationResult validation,
        NextStep next) {

    public RunResult(Outcome outcome, String message, long rows, long written, long chunks, double seconds) {
        this(outcome, message, rows, written, chunks, seconds, null, null);
    }

    public RunResult(
            Outcome outcome, String message, long rows, long written, long chunks, double seconds, NextStep next) {
        this(outcome, message, rows, written, chunks, seconds, null, next);
    }

    /**
     * The same result, with the validation that followed it.
     *
     * @param onMismatches the way on if it found mismatches
     */
    public RunResult validated(ValidationResult v, NextStep onMismatches) {
        boolean clean = v.clean();
        Outcome o = !v.complete() ? v.outcome() : clean ? outcome : Outcome.MISMATCHES;
        String m = clean
                ? message + "; validation clean"
                : !v.complete()
                        ? message + "; " + v.message()
                        : String.format(Locale.ROOT, "%s; validation found %,d mismatches", message, v.mismatches());
        NextStep way = clean ? next : !v.complete() ? v.next() : onMismatches;
        return new RunResult(o, m, rows, written, chunks, seconds, v, way);
    }

    public enum Outcome {
        /** Every key range has been applied. */
        COMPLETED,
        /** Nothing to do: the job had completed before (run with --again to start over). */
        ALREADY_COMPLETE,
        /** A chunk failed for good; resumable from the checkpoint. */
        FAILED,
        /** Stopped by a signal or an operator after a chunk; resumable. */
        STOPPED,
        /** Every range was applied, but validation found mismatches. */
        MISMATCHES,
        /** Not runnable now: another runner holds the job, or it was cancelled. */
        NOT_RUNNABLE
    }

    public static RunResult of(Outcome outcome, String message) {
        return new RunResult(outcome, message, 0, 0, 0, 0);
    }

    /** A result with nothing run, and the way on. */
    public static RunResult of(Outcome outcome, String message, NextStep next) {
        return new RunResult(outcome, message, 0, 0, 0, 0, next);
    }
}
