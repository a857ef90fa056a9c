package dev.sluice.engine.chunk;

import java.sql.Connection;
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

    private final RangeStatement update;

    /**
     * @param set   target column to SQL expression, columns already resolved against the catalog
     * @param where an optional filter, or null
     */
    public InPlaceWriter(Keyset keyset, Map<Column, String> set, String where) {
        List<String> parts = new ArrayList<>();
        set.forEach((col, expr) -> parts.add(col.quoted() + " = (" + expr + ")"));
        String head = "UPDATE " + keyset.table().qualifiedName() + " SET " + String.join(", ", parts) + " WHERE ";
        String filter = where == null ? "" : " AND (" + where + ")";
        this.update = new RangeStatement(keyset, range -> head + range + filter);
    }

    @Override
    public long write(Connection c, KeyRange range) throws SQLException {
        return update.execute(c, range);
    }

    @Override
    public String sql(boolean fromTheStart) {
        return update.sql(fromTheStart);
    }
}
