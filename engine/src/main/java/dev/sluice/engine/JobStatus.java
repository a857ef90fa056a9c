package dev.sluice.engine;

import java.util.List;

/**
 * A job's state as {@code status} reports it, read from the JobRepository (so from any process).
 *
 * @param lastKey        the checkpoint's key values, or empty before the first chunk
 * @param rowsPerSecond  rows written per second: over the last minute while running, over the last execution when
 *                       it has ended
 * @param etaSeconds     while running, from the recent rate over the key ranges and the planner's estimate; null
 *                       otherwise
 * @param throttleReason why no chunk is starting, while throttled; null otherwise
 * @param stopReason     why the last execution stopped or paused (an operator, a signal, a closed window), or null
 * @param runner         the process running the job now, or null
 * @param rowsPerSecondLimit the rate limit in force (the spec's, or an operator's tune), 0 for none; null if unknown
 * @param sync           the job's sync trigger, or null for a job without one ({@code sync: none})
 * @param undo           the job's undo journal now, or null when it keeps none
 * @param partitions     the job's key-range partitions when it runs more than one ({@code parallel} > 1), else empty
 * @param walBytesPerSecond WAL written per second while its chunks ran, over the last minute (0 when not running)
 * @param work           the work the state and the figures describe: the backfill, or its validation, repair or
 *                       rollback (see {@link Work})
 * @param next           the way on from this state where the job waits for a step (it stopped, failed, was cancelled
 *                       or its validation found mismatches), or null
 * @param contract       the contract steps {@code finish} ran (or began) and what {@code rollback} can still undo, or
 *                       null when none was begun
 */
public record JobStatus(
        String job,
        String table,
        State state,
        long rowsProcessed,
        long rowsWritten,
        long rowsEstimated,
        long chunks,
        List<String> lastKey,
        double rowsPerSecond,
        Long etaSeconds,
        int chunkRows,
        String throttleReason,
        String lastError,
        String stopReason,
        Runner runner,
        Long rowsPerSecondLimit,
        Validation validation,
        Sync sync,
        Undo undo,
        List<Partition> partitions,
        double walBytesPerSecond,
        Work work,
        NextStep next,
        Contract contract) {

    public JobStatus {
        partitions = partitions == null ? List.of() : List.copyOf(partitions);
        lastKey = lastKey == null ? List.of() : List.copyOf(lastKey);
    }

    /**
     * Which work a status describes. The job's state is the one its backfill, validation, repair and rollback say
     * together; the figures belong to one of them: a rollback's are its journal's rows (restored of those it had to
     * restore), a validation's or a repair's rate, ETA and limit are theirs while they run or wait to resume, and
     * everything else is the backfill's.
     */
    public enum Work {
        BACKFILL,
        VALIDATION,
        REPAIR,
        ROLLBACK
    }

    /**
     * One key-range partition: its keys {@code (from, to]} (empty: the table's start, or open above), its state
     * (RUNNING, PAUSED, STOPPED, FAILED, CANCELLED or COMPLETED, as the job's states are named), and where its chunks
     * stand.
     *
     * @param worker the {@code sluice worker} that took it last ({@code workers: remote}), or null
     */
    public record Partition(
            String name,
            List<String> from,
            List<String> to,
            String state,
            long rows,
            long written,
            long chunks,
            List<String> lastKey,
            Runner worker) {
        public Partition {
            from = from == null ? null : List.copyOf(from);
            to = to == null ? null : List.copyOf(to);
            lastKey = lastKey == null ? List.of() : List.copyOf(lastKey);
        }

        /** A partition run by the runner itself. */
        public Partition(
                String name,
                List<String> from,
                List<String> to,
                String state,
                long rows,
                long written,
                long chunks,
                List<String> lastKey) {
            this(name, from, to, state, rows, written, chunks, lastKey, null);
        }
    }

    /**
     * A job's undo journal: the rows it can restore, and the bytes it takes (as stored, compressed).
     *
     * @param changedSince of those rows, the ones its last rollback left because someone else changed them since
     *                     Sluice wrote them (only {@code rollback --force} restores them)
     */
    public record Undo(long rows, long bytes, long changedSince) {}

    /**
     * A job's sync trigger.
     *
     * @param installed   whether its triggers are on the table now (for a cross-database copy, as recorded: the
     *                    source database is not asked)
     * @param dropped     whether {@code finish} or a rollback dropped it (as it should: not an error)
     * @param droppedBy   {@code finish} or {@code rollback} when dropped, else null
     * @param pendingKeys keys logged and not yet re-applied (Java and cross-database modes), null when unknown
     * @param oldestPendingSeconds how long the oldest of them has waited, null when none does or it is not known
     */
    public record Sync(
            String kind,
            String table,
            boolean installed,
            boolean dropped,
            String droppedBy,
            Long pendingKeys,
            Double oldestPendingSeconds) {

        /** Without the age of the oldest key waiting (none waits, or it is not known). */
        public Sync(String kind, String table, boolean installed, boolean dropped, String droppedBy, Long pendingKeys) {
            this(kind, table, installed, dropped, droppedBy, pendingKeys, null);
        }
    }

    /**
     * The job's last validation.
     *
     * @param complete whether it checked every range
     * @param at       when it ended (or was last updated), ISO-8601 in the runner's local time
     */
    public record Validation(boolean complete, long rowsChecked, long mismatches, String at) {}

    /**
     * The job's contract steps as recorded: each step ({@code contract[1].index}), where it stands (STARTED, DONE or
     * REVERSED) and since when; {@code purged} once {@code finish --purge} dropped the journal and set-aside columns.
     *
     * @param undoable whether {@code rollback} can still undo the steps and the rows (not purged)
     */
    public record Contract(List<ContractStep> steps, boolean purged, boolean undoable) {
        public Contract {
            steps = List.copyOf(steps);
        }
    }

    /** One recorded contract step. */
    public record ContractStep(String step, String state, String at) {}

    /**
     * Who runs the job: the runner's operating-system process, and the PostgreSQL backend that holds its lock.
     *
     * @param pid  the runner's process id on {@code host}, or null if it cannot be seen (another role's session)
     * @param host the runner's host name, or null
     */
    public record Runner(Long pid, String host, int backendPid) {}

    public enum State {
        NOT_STARTED,
        RUNNING,
        THROTTLED,
        VALIDATING,
        PAUSED,
        STOPPED,
        FAILED,
        CANCELLED,
        COMPLETED,
        FINISHED,
        ROLLING_BACK,
        ROLLED_BACK;

        /** Whether a runner is working on the job in this state. */
        public boolean active() {
            return this == RUNNING || this == THROTTLED || this == VALIDATING || this == ROLLING_BACK;
        }
    }

    /** The same status, with what is known of its sync trigger replaced. */
    public JobStatus withSync(Sync known) {
        return new JobStatus(
                job,
                table,
                state,
                rowsProcessed,
                rowsWritten,
                rowsEstimated,
                chunks,
                lastKey,
                rowsPerSecond,
                etaSeconds,
                chunkRows,
                throttleReason,
                lastError,
                stopReason,
                runner,
                rowsPerSecondLimit,
                validation,
                known,
                undo,
                partitions,
                walBytesPerSecond,
                work,
                next,
                contract);
    }

    /** Whether a runner holds the job now. */
    public boolean running() {
        return runner != null;
    }

    /** The runner's process id, or null when no runner holds the job (or its process cannot be seen). */
    public Long runnerPid() {
        return runner == null ? null : runner.pid();
    }

    /**
     * Progress in [0, 1], from the estimate; 1 once completed. A rollback's is its own: journaled rows it went through
     * of those it had to restore, 1 once ROLLED_BACK.
     */
    public double progress() {
        if (state == State.COMPLETED || state == State.FINISHED || state == State.ROLLED_BACK) {
            return 1;
        }
        return rowsEstimated <= 0 ? 0 : Math.min(1, (double) rowsProcessed / rowsEstimated);
    }

    /** A job that has never run on this database. */
    public static JobStatus notStarted(String job, String table) {
        return new JobStatus(
                job,
                table,
                State.NOT_STARTED,
                0,
                0,
                0,
                0,
                List.of(),
                0,
                null,
                0,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                List.of(),
                0,
                Work.BACKFILL,
                null,
                null);
    }
}
