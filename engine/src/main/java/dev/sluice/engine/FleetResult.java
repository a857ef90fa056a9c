package dev.sluice.engine;

import java.util.List;

/**
 * A fleet's rollout of a job, as data: how it came out, the target that halted it (or null), and where each target
 * stands, in rollout order.
 *
 * @param state     the rollout's own state as recorded in the coordinator (COMPLETED, FAILED, STOPPED, ...), or
 *                  NOT_STARTED
 * @param haltedBy  the first target whose job failed or found mismatches, or null
 */
public record FleetResult(Outcome outcome, String message, String state, String haltedBy, List<Target> targets) {

    public FleetResult {
        targets = targets == null ? List.of() : List.copyOf(targets);
    }

    /** How a rollout call came out. */
    public enum Outcome {
        /** Every target's job is done and validated clean. */
        COMPLETED,
        /** A target's job failed (resumable once fixed): the rollout halted before the next wave. */
        FAILED,
        /** A target's validation found mismatches: the rollout halted before the next wave. */
        MISMATCHES,
        /** Stopped by a signal or an operator (a target paused); {@code resume --fleet} continues it. */
        STOPPED,
        /** Not runnable now: another runner holds the rollout. */
        NOT_RUNNABLE
    }

    /**
     * A target of the rollout.
     *
     * @param wave    the wave it belongs to (1: the canary, when there is one)
     * @param state   its partition's state in the rollout: NOT_STARTED, COMPLETED, FAILED, STOPPED, ...
     * @param outcome what its job came to (DONE, FAILED, MISMATCHES, STOPPED, NOT_RUNNABLE, NOT_STARTED), or null if
     *                the rollout has not reached it
     * @param message the job's last word there, one line, or null
     */
    public record Target(String name, int wave, String state, String outcome, String message) {}
}
