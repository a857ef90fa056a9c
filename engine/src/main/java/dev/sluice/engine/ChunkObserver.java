package dev.sluice.engine;

import java.time.Duration;

/** Told of each chunk after it has committed: progress displays, metrics. Called on the runner's thread; be quick. */
@FunctionalInterface
public interface ChunkObserver {

    ChunkObserver NONE = report -> {};

    /** Tells both observers, this one first. */
    default ChunkObserver and(ChunkObserver other) {
        ChunkObserver first = this;
        return new ChunkObserver() {
            @Override
            public void chunkCommitted(ChunkReport report) {
                first.chunkCommitted(report);
                other.chunkCommitted(report);
            }

            @Override
            public void started(Phase phase, long estimatedRows, long rowsDone) {
                first.started(phase, estimatedRows, rowsDone);
                other.started(phase, estimatedRows, rowsDone);
            }

            @Override
            public void chunkFailed(String error, int attempt) {
                first.chunkFailed(error, attempt);
                other.chunkFailed(error, attempt);
            }

            @Override
            public void reconnecting(String why, int attempt, Duration limit) {
                first.reconnecting(why, attempt, limit);
                other.reconnecting(why, attempt, limit);
            }
        };
    }

    void chunkCommitted(ChunkReport report);

    /** What the chunks of a run do. */
    enum Phase {
        BACKFILL,
        VALIDATION,
        ROLLBACK
    }

    /**
     * Told once before the first chunk of a run (the backfill, then its validation).
     *
     * @param estimatedRows the planner's estimate of the table's rows
     * @param rowsDone      rows covered by earlier executions (resuming)
     */
    default void started(Phase phase, long estimatedRows, long rowsDone) {}

    /** A chunk failed with a transient error and will be retried ({@code attempt} counts from 1). */
    default void chunkFailed(String error, int attempt) {}

    /** The runner lost the database and tries to reconnect for up to {@code limit} ({@code attempt} from 1). */
    default void reconnecting(String why, int attempt, Duration limit) {}
}
