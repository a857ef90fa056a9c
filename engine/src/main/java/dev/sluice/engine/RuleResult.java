package dev.sluice.engine;

import java.util.ArrayList;
import java.util.List;

import dev.sluice.engine.validate.Validator;

/**
 * What a rule found so far: rows checked, mismatches, and the first few mismatching rows.
 *
 * @param samples at most {@link Validator#SAMPLES} rows, in key order
 */
public record RuleResult(String rule, long checked, long mismatches, List<Mismatch> samples) {

    public RuleResult {
        samples = List.copyOf(samples);
    }

    /** This result followed by the next chunk's. */
    public RuleResult plus(RuleResult next) {
        List<Mismatch> all = new ArrayList<>(samples);
        for (Mismatch m : next.samples) {
            if (all.size() < Validator.SAMPLES) {
                all.add(m);
            }
        }
        return new RuleResult(rule, checked + next.checked, mismatches + next.mismatches, all);
    }
}
