package dev.sluice.engine;

/**
 * What a run ended with.
 *
 * @param rows    rows in the key ranges the job has covered, over all its executions
 * @param written rows its writes changed
 * @param chunks  chunks committed, over all executions
 * @param seconds wall time of this run
 */
public record RunResult(Outcome outcome, String message, long rows, long written, long chunks, double seconds) {

    public enum Outcome {
        /** Every key range has been applied. */
        COMPLETED,
        /** Nothing to do: the job had completed before (run with --again to start over). */
        ALREADY_COMPLETE,
        /** A chunk failed for good; resumable from the checkpoint. */
        FAILED,
        /** Stopped by a signal or an operator after a chunk; resumable. */
        STOPPED,
        /** Not runnable now: another runner holds the job, or it was cancelled. */
        NOT_RUNNABLE
    }

    static RunResult of(Outcome outcome, String message) {
        return new RunResult(outcome, message, 0, 0, 0, 0);
    }
}
