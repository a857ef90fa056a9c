package dev.sluice.engine.chunk;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.sluice.engine.KeyRange;
import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Keyset;

/**
 * In-place mode: one {@code UPDATE t SET col = (expr), ... WHERE key in (lo, hi] [AND (where)]} per chunk, so
 * the work stays in the database and set-based.
 */
public final class InPlaceWriter implements ChunkWriter {

    private final RangeStatement update;
    private final boolean journaled;

    /**
     * @param set     target column to SQL expression, columns already resolved against the catalog
     * @param where   an optional filter, or null
     * @param journal where the pre-images go, written by the same statement; null without {@code undo}
     */
    public InPlaceWriter(Keyset keyset, Map<Column, String> set, String where, Journal journal) {
        List<String> parts = new ArrayList<>();
        set.forEach((col, expr) -> parts.add(col.quoted() + " = (" + expr + ")"));
        String table = keyset.table().qualifiedName();
        String filter = where == null ? "" : " AND (" + where + ")";
        List<Column> targets = List.copyOf(set.keySet());
        this.journaled = journal != null;
        if (journal == null) {
            String head = "UPDATE " + table + " SET " + String.join(", ", parts) + " WHERE ";
            this.update = new RangeStatement(keyset, range -> head + range + filter);
        } else if (journal.returningOld()) {
            String head = "WITH w AS (UPDATE " + table + " SET " + String.join(", ", parts) + " WHERE ";
            String tail = filter + " RETURNING "
                    + Journal.row(
                            Journal.texts("NEW.", keyset.columns()),
                            Journal.texts("OLD.", targets),
                            "true",
                            Journal.hash("NEW.", targets))
                    + ") "
                    + journal.insertFrom("w", keyset.width(), targets.size());
            this.update = new RangeStatement(keyset, range -> head + range + tail);
        } else {
            // Before PostgreSQL 18: the pre-images read and locked first, in the same statement, under aliases
            // that no expression can mean. The UPDATE carries the range too: joined to o alone, it could read the
            // whole table to find o's rows.
            List<String> old = new ArrayList<>();
            List<String> match = new ArrayList<>();
            for (int i = 0; i < keyset.width(); i++) {
                Column k = keyset.columns().get(i);
                old.add(k.quoted() + " AS sluice_k" + i);
                match.add(table + "." + k.quoted() + " = o.sluice_k" + i);
            }
            List<String> before = new ArrayList<>();
            for (int i = 0; i < targets.size(); i++) {
                old.add(targets.get(i).quoted() + "::text AS sluice_b" + i);
                before.add("o.sluice_b" + i);
            }
            String head = "WITH o AS (SELECT " + String.join(", ", old) + " FROM " + table + " WHERE ";
            String update = filter + " FOR UPDATE), w AS (UPDATE " + table + " SET " + String.join(", ", parts)
                    + " FROM o WHERE " + String.join(" AND ", match) + " AND ";
            String tail = " RETURNING "
                    + Journal.row(
                            Journal.texts(table + ".", keyset.columns()),
                            before,
                            "true",
                            Journal.hash(table + ".", targets))
                    + ") " + journal.insertFrom("w", keyset.width(), targets.size());
            // The range in o and again in the UPDATE (unqualified: o's columns are all sluice_ aliases).
            this.update = new RangeStatement(keyset, range -> head + range + update + range + tail, 2);
        }
    }

    @Override
    public long write(Connection c, KeyRange range) throws SQLException {
        return journaled ? update.count(c, range) : update.execute(c, range);
    }

    @Override
    public String sql(int shape) {
        return update.sql(shape);
    }
}
