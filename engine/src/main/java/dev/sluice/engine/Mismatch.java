package dev.sluice.engine;

import java.util.List;

/** One mismatching row of a rule: its key, and for a comparison its target and source values (null = SQL NULL). */
public record Mismatch(List<String> key, String target, String source) {
    public Mismatch {
        key = List.copyOf(key);
    }
}
