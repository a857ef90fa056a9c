package dev.sluice.engine.preflight;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.sluice.engine.Finding;
import dev.sluice.engine.chunk.WritePlan;
import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Table;

/**
 * What the undo journal will hold: per row written, its key and the pre-images of the written columns as text, and an
 * 8-byte hash; estimated from the columns' sizes as stored in the table's first rows (the planner's statistics, or 8
 * bytes, where there are none).
 */
final class UndoEstimate {

    // Per array element: the text's length word, and the NULL bitmap's share.
    private static final int PER_ELEMENT = 5;
    private static final int HASH = 8;
    private static final int UNKNOWN_WIDTH = 8;
    private static final int SAMPLE = 1000;

    private UndoEstimate() {}

    static Finding of(Connection c, WritePlan plan, long rows) throws SQLException {
        if (plan.journal() == null) {
            return Finding.ok("undo", "no journal (undo: false): 'rollback' will refuse");
        }
        Table table = plan instanceof WritePlan.Copy copy
                ? copy.target()
                : plan.keyset().table();
        List<Column> key = plan instanceof WritePlan.Copy copy
                ? copy.conflict()
                : plan.keyset().columns();
        List<Column> columns = new ArrayList<>(key);
        columns.addAll(plan.targets());
        long perRow = HASH + sampled(c, table, columns) + (long) PER_ELEMENT * columns.size();
        double mb = rows * (double) perRow / (1 << 20);
        return Finding.ok(
                "undo",
                String.format(
                        Locale.ROOT,
                        "journal of ~%,d rows, ~%,.1f MB"
                                + " (~%d bytes a row: key, pre-images, hash), one row per chunk in %s",
                        rows,
                        mb,
                        perRow,
                        plan.journal().table()));
    }

    /**
     * The columns' bytes a row as stored: measured on the table's first rows in one read ({@code pg_column_size}, which
     * reads a large value's stored size without fetching it); for an empty table, the planner's statistics (which
     * count a value stored out of line as its pointer), else a guess.
     */
    private static long sampled(Connection c, Table table, List<Column> columns) throws SQLException {
        String sizes = String.join(
                " + ",
                columns.stream()
                        .map(col -> "coalesce(pg_column_size(" + col.quoted() + "), 0)")
                        .toList());
        try (PreparedStatement ps = c.prepareStatement("SELECT avg(" + sizes + ")::bigint FROM (SELECT * FROM "
                + table.qualifiedName() + " LIMIT " + SAMPLE + ") s")) {
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next() && rs.getObject(1) != null) {
                    return rs.getLong(1);
                }
            }
        }
        long total = 0;
        for (Column col : columns) {
            total += width(c, table, col);
        }
        return total;
    }

    private static long width(Connection c, Table table, Column col) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT avg_width FROM pg_stats s JOIN pg_class r ON r.relname ="
                + " s.tablename JOIN pg_namespace n ON n.oid = r.relnamespace AND n.nspname = s.schemaname"
                + " WHERE r.oid = ? AND s.attname = ?")) {
            ps.setLong(1, table.oid());
            ps.setString(2, col.name());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : UNKNOWN_WIDTH;
            }
        }
    }
}
