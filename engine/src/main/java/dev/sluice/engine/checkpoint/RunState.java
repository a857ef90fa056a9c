package dev.sluice.engine.checkpoint;

import org.springframework.batch.core.BatchStatus;

/** Where an execution of a job stands, in Sluice's words: the one place Spring Batch's statuses are read. */
public enum RunState {
    /** Started and not ended: a runner is at work, or died without recording it. */
    RUNNING,
    COMPLETED,
    /** Stopped after a chunk (a signal, an operator's pause, a closed window); resumable. */
    STOPPED,
    /** A chunk failed for good, or the runner lost its database; resumable. */
    FAILED,
    /** Cancelled: never resumed ({@code run --again} starts over). */
    CANCELLED;

    static RunState of(BatchStatus status) {
        return switch (status) {
            case COMPLETED -> COMPLETED;
            case STOPPED -> STOPPED;
            case ABANDONED -> CANCELLED;
            case STARTING, STARTED, STOPPING -> RUNNING;
            // UNKNOWN: a commit whose outcome the driver could not learn; Recovery makes it FAILED and resumable.
            case FAILED, UNKNOWN -> FAILED;
        };
    }

    /** Whether a new execution starts (rather than this one continuing). */
    public boolean ended() {
        return this == COMPLETED || this == CANCELLED;
    }
}
