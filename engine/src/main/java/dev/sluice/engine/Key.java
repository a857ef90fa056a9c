package dev.sluice.engine;

import java.util.List;

/**
 * The value of a key, one text per key column, exactly as PostgreSQL prints it ({@code col::text}). Keys are
 * never compared in Java: they go back to the server cast to their column type, where the index's own ordering
 * and collation decide.
 */
public record Key(List<String> values) {

    public Key {
        values = List.copyOf(values);
    }

    @Override
    public String toString() {
        return values.size() == 1 ? values.get(0) : "(" + String.join(", ", values) + ")";
    }
}
