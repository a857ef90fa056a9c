package dev.sluice.engine;

import java.util.List;

/**
 * What {@code finish} came to: the job FINISHED (its sync trigger dropped, its contract steps run), or why not.
 *
 * @param steps the contract steps run now, in order (empty when none was left to run)
 * @param next  the way on, or null
 */
public record FinishResult(Outcome outcome, String message, List<Step> steps, NextStep next) {

    public FinishResult {
        steps = steps == null ? List.of() : List.copyOf(steps);
    }

    /** How finish ended. */
    public enum Outcome {
        /** The job is FINISHED now (and, asked to, purged). */
        FINISHED,
        /** It was FINISHED before; nothing changed (except a purge, if asked for). */
        ALREADY_FINISHED,
        /** The job is not done, is busy, or a step cannot go on as things stand: nothing more was changed. */
        NOT_DONE,
        /** A step found rows that stop it (duplicate keys, rows breaking a constraint), named in the message. */
        MISMATCHES,
        /** A step could not take its lock, or the database failed: finish again to go on from that step. */
        FAILED
    }

    /**
     * One contract step run now.
     *
     * @param step    the step as a spec names it: {@code contract[1].index}
     * @param already whether its effect was in place already (recognised, not redone)
     */
    public record Step(String step, boolean already, double seconds) {}

    public static FinishResult of(Outcome outcome, String message) {
        return new FinishResult(outcome, message, List.of(), null);
    }

    /** Whether the job is FINISHED now. */
    public boolean finished() {
        return outcome == Outcome.FINISHED || outcome == Outcome.ALREADY_FINISHED;
    }
}
