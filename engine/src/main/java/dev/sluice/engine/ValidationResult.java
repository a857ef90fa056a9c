package dev.sluice.engine;

import java.util.List;

/**
 * What a validation (or a repair and the validation after it) came to.
 *
 * @param outcome  COMPLETED when every range was checked (clean or not: see {@link #mismatches()}), else STOPPED,
 *                 FAILED or NOT_RUNNABLE, as for a run; {@code message} says why
 * @param rows     rows checked
 * @param repaired after a repair: the rows it wrote again; null for a validation alone
 * @param next     the way on from here (continue the validation, repair the mismatches, ...), or null
 */
public record ValidationResult(
        RunResult.Outcome outcome,
        String message,
        List<RuleResult> rules,
        long rows,
        long chunks,
        double seconds,
        Long repaired,
        NextStep next) {

    public ValidationResult {
        rules = List.copyOf(rules);
    }

    public ValidationResult(
            RunResult.Outcome outcome, String message, List<RuleResult> rules, long rows, long chunks, double seconds) {
        this(outcome, message, rules, rows, chunks, seconds, null, null);
    }

    /** The same result, coming after a repair that wrote {@code rows} again. */
    public ValidationResult afterRepair(long rows) {
        return new ValidationResult(outcome, message, rules, this.rows, chunks, seconds, rows, next);
    }

    /** Whether every range was checked. */
    public boolean complete() {
        return outcome == RunResult.Outcome.COMPLETED;
    }

    public long mismatches() {
        return rules.stream().mapToLong(RuleResult::mismatches).sum();
    }

    public boolean clean() {
        return complete() && mismatches() == 0;
    }

    /** A validation that did not run, or did not finish, for {@code why}. */
    public static ValidationResult unfinished(RunResult.Outcome outcome, String why) {
        return new ValidationResult(outcome, why, List.of(), 0, 0, 0);
    }

    /** A validation that did not run, or did not finish, for {@code why}; {@code next} takes it on. */
    public static ValidationResult unfinished(RunResult.Outcome outcome, String why, NextStep next) {
        return new ValidationResult(outcome, why, List.of(), 0, 0, 0, null, next);
    }
}
