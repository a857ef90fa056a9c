package dev.sluice.engine.chunk;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.sluice.engine.KeyRange;
import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Keyset;
import dev.sluice.engine.keyset.Table;

/**
 * Copy mode: each key range is copied into another table with one
 * {@code INSERT INTO target (...) SELECT ... FROM source WHERE key in (lo, hi] ON CONFLICT (key) DO UPDATE}, so
 * copying a range again (after a crash, a repair, a re-run) converges on the same rows instead of failing.
 */
public final class CopyWriter implements ChunkWriter {

    private final RangeStatement insert;
    private final boolean journaled;

    /**
     * @param columns      target column to source expression (already made safe for JDBC)
     * @param conflictKeys the target's unique columns that receive the source key
     * @param lockSource   whether to lock the rows read ({@code FOR SHARE}): with a mirror trigger, an application
     *                     write to a row the chunk copies then waits for the chunk, and its mirror lands after it
     * @param journal      where the replaced rows and inserted keys go, in the same statement; null without undo
     */
    public CopyWriter(
            Keyset keyset,
            Table target,
            Map<Column, String> columns,
            List<Column> conflictKeys,
            String where,
            boolean lockSource,
            Journal journal) {
        List<String> names = new ArrayList<>();
        List<String> exprs = new ArrayList<>();
        columns.forEach((col, expr) -> {
            names.add(col.quoted());
            exprs.add("(" + expr + ")");
        });
        String head = "INSERT INTO " + target.qualifiedName() + " (" + String.join(", ", names) + ") SELECT "
                + String.join(", ", exprs) + " FROM " + keyset.table().qualifiedName() + " WHERE ";
        String filter = (where == null ? "" : " AND (" + where + ")") + (lockSource ? " FOR SHARE" : "");
        String upsert = Upsert.clause(columns.keySet(), conflictKeys);
        this.journaled = journal != null;
        if (journal == null) {
            this.insert = new RangeStatement(keyset, range -> head + range + filter + upsert);
            return;
        }
        List<String> aliased = new ArrayList<>();
        List<String> values = new ArrayList<>();
        for (int i = 0; i < exprs.size(); i++) {
            aliased.add(exprs.get(i) + " AS sluice_c" + i);
            values.add("s.sluice_c" + i);
        }
        String rowsHead = "s AS (SELECT " + String.join(", ", aliased) + " FROM "
                + keyset.table().qualifiedName() + " WHERE ";
        this.insert = new RangeStatement(
                keyset,
                range -> CopyJournal.statement(
                        journal,
                        target,
                        List.copyOf(columns.keySet()),
                        values,
                        conflictKeys,
                        rowsHead + range + filter + ")",
                        upsert));
    }

    @Override
    public long write(Connection c, KeyRange range) throws SQLException {
        return write(c, range, null);
    }

    @Override
    public long write(Connection c, KeyRange range, ChunkTimeouts.WalSince wal) throws SQLException {
        return journaled ? insert.count(c, range, wal) : insert.execute(c, range, wal);
    }

    @Override
    public String sql(int shape) {
        return insert.sql(shape);
    }
}
