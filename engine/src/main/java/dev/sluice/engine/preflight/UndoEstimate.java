package dev.sluice.engine.preflight;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.sluice.engine.chunk.WritePlan;
import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Table;

/**
 * What the undo journal will hold: per row written, its key and the pre-images of the written columns as text, and an
 * 8-byte hash; estimated from the columns' average widths in the planner's statistics (8 bytes where there are none),
 * before the compression PostgreSQL applies to the journal's arrays.
 */
final class UndoEstimate {

    // Per array element: the text's length word, and the NULL bitmap's share.
    private static final int PER_ELEMENT = 5;
    private static final int HASH = 8;
    private static final int UNKNOWN_WIDTH = 8;

    private UndoEstimate() {
    }

    static Finding of(Connection c, WritePlan plan, long rows) throws SQLException {
        if (plan.journal() == null) {
            return Finding.ok("undo", "no journal (undo: false): 'rollback' will refuse");
        }
        Table table = plan instanceof WritePlan.Copy copy ? copy.target() : plan.keyset().table();
        List<Column> key = plan instanceof WritePlan.Copy copy ? copy.conflict() : plan.keyset().columns();
        List<Column> columns = new ArrayList<>(key);
        columns.addAll(plan.targets());
        long perRow = HASH;
        for (Column col : columns) {
            perRow += width(c, table, col) + PER_ELEMENT;
        }
        double mb = rows * (double) perRow / (1 << 20);
        return Finding.ok("undo", String.format(Locale.ROOT, "journal of ~%,d rows, ~%,.1f MB before compression"
                + " (~%d bytes a row: key, pre-images, hash), one row per chunk in %s", rows, mb, perRow,
                plan.journal().table()));
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
