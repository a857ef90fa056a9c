package dev.sluice.engine.control;

import java.util.List;

/**
 * A job's state as {@code status} reports it, read from the JobRepository (so from any process).
 *
 * @param lastKey        the checkpoint's key values, or empty before the first chunk
 * @param rowsPerSecond  of the current (or last) execution
 * @param etaSeconds     while running, from the rate and the planner's estimate; null otherwise
 * @param throttleReason why no chunk is starting, while throttled; null otherwise
 * @param runnerPid      PostgreSQL backend pid of the runner's lock session, while one runs
 */
public record JobStatus(String job, State state, long rowsProcessed, long rowsWritten, long rowsEstimated,
                        long chunks, List<String> lastKey, double rowsPerSecond, Long etaSeconds, int chunkRows,
                        String throttleReason, String lastError, String table, Integer runnerPid,
                        Validation validation) {

    /**
     * The job's last validation.
     *
     * @param complete whether it checked every range
     * @param at       when it ended (or was last updated), ISO-8601 in the runner's local time
     */
    public record Validation(boolean complete, long rowsChecked, long mismatches, String at) {
    }

    public enum State { NOT_STARTED, RUNNING, THROTTLED, PAUSED, STOPPED, FAILED, CANCELLED, COMPLETED }

    /** Progress in [0, 1], from the estimate; 1 once completed. */
    public double progress() {
        if (state == State.COMPLETED) {
            return 1;
        }
        return rowsEstimated <= 0 ? 0 : Math.min(1, (double) rowsProcessed / rowsEstimated);
    }

    /** A job that has never run on this database. */
    public static JobStatus notStarted(String job, String table) {
        return new JobStatus(job, State.NOT_STARTED, 0, 0, 0, 0, List.of(), 0, null, 0, null, null, table, null, null);
    }
}
