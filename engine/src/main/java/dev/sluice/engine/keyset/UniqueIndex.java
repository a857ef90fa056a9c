package dev.sluice.engine.keyset;

import java.util.List;

/**
 * A unique index of the table, as the catalog describes it. Only an index whose columns are plain columns, with
 * their type's default B-tree ordering, valid, and not partial, can order a keyset.
 */
public record UniqueIndex(String name, boolean primary, boolean usable, boolean partial, List<Part> parts) {

    /**
     * One key column of the index.
     *
     * @param column         the column's name, or null for an expression
     * @param collation      the collation the index sorts by (quoted), or null for non-collatable types
     * @param defaultOrdering whether the index uses the type's default operator class
     */
    public record Part(String column, boolean descending, boolean defaultOrdering, String collation) {}

    public List<String> columns() {
        return parts.stream().map(Part::column).toList();
    }

    /** Why this index cannot order a keyset, or null if it can. */
    String unfitness() {
        if (!usable) {
            return "is not valid (an interrupted CREATE INDEX CONCURRENTLY?)";
        }
        if (partial) {
            return "is partial (has a WHERE clause)";
        }
        if (parts.stream().anyMatch(p -> p.column() == null)) {
            return "indexes an expression";
        }
        if (parts.stream().anyMatch(p -> !p.defaultOrdering())) {
            return "uses a non-default operator class";
        }
        if (parts.stream().map(Part::descending).distinct().count() > 1) {
            return "mixes ASC and DESC columns";
        }
        return null;
    }
}
