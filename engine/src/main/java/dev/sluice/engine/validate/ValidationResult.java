package dev.sluice.engine.validate;

import java.util.List;

/**
 * What a validation found.
 *
 * @param complete whether every range was checked (false: stopped, failed or refused; see {@code message})
 */
public record ValidationResult(boolean complete, String message, List<RuleResult> rules, long rows, long chunks,
                               double seconds) {

    public long mismatches() {
        return rules.stream().mapToLong(RuleResult::mismatches).sum();
    }

    public boolean clean() {
        return complete && mismatches() == 0;
    }
}
