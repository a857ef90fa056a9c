package dev.sluice.engine.validate;

/**
 * A validation rule resolved against the table: a predicate true for every row that breaks the rule, and, for
 * comparisons, the target and source as text to show in the report.
 *
 * @param name       the target column for a comparison, {@code check[i]} for a predicate
 * @param violation  SQL true for a mismatching row: {@code "t" IS DISTINCT FROM (source)} (NULLs compare as
 *                   values), or {@code NOT coalesce((check), false)} (a NULL check does not hold)
 * @param targetText SQL for the target's text, or null for a check
 * @param sourceText SQL for the source's text, or null for a check
 */
public record Rule(String name, String violation, String targetText, String sourceText) {

    public boolean isComparison() {
        return targetText != null;
    }

    /**
     * The same rule, not counting the rows {@code pending} selects: rows the application changed whose keys wait in
     * the sync key log, which the runner re-applies next; they are behind, not wrong.
     */
    public Rule unless(String pending) {
        return new Rule(name, "(" + violation + ") AND NOT (" + pending + ")", targetText, sourceText);
    }
}
