package dev.sluice.engine.chunk;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.KeyRange;
import dev.sluice.engine.keyset.Keyset;

/**
 * In-place mode: one {@code UPDATE t SET col = (expr), ... WHERE key in (lo, hi] [AND (where)]} per chunk, so
 * the work stays in the database and set-based.
 */
public final class InPlaceWriter implements ChunkWriter {

    private final Keyset keyset;
    private final String assignments;
    private final String where;

    /**
     * @param set   target column to SQL expression, columns already resolved against the catalog
     * @param where an optional filter, or null
     */
    public InPlaceWriter(Keyset keyset, Map<Column, String> set, String where) {
        this.keyset = keyset;
        List<String> parts = new ArrayList<>();
        set.forEach((col, expr) -> parts.add(col.quoted() + " = (" + expr + ")"));
        this.assignments = String.join(", ", parts);
        this.where = where;
    }

    @Override
    public long write(Connection c, KeyRange range) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(statement(range.lo() == null))) {
            keyset.bind(ps, 1, range);
            return ps.executeLargeUpdate();
        }
    }

    @Override
    public String sql(boolean fromTheStart) {
        return statement(fromTheStart);
    }

    private String statement(boolean fromTheStart) {
        return "UPDATE " + keyset.table().qualifiedName() + " SET " + assignments
                + " WHERE " + keyset.rangePredicate(fromTheStart) + (where == null ? "" : " AND (" + where + ")");
    }
}
