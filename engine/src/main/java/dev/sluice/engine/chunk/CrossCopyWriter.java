package dev.sluice.engine.chunk;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import dev.sluice.engine.KeyRange;
import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Keyset;
import dev.sluice.engine.keyset.Table;

/**
 * Copy mode across databases: the range's rows are read from the source database (the expressions evaluated
 * there, as text), then written into the target with one
 * {@code INSERT ... SELECT CAST(v.c AS type) FROM unnest(text[], ...) v ON CONFLICT (key) DO UPDATE}, in the
 * target's chunk transaction, which also carries the checkpoint: the target never holds half a chunk, and a chunk
 * copied again converges. Memory holds one chunk.
 */
public final class CrossCopyWriter implements ChunkWriter {

    private final Keyset keyset;
    private final DataSource source;
    private final String[] reads;
    private final String insert;
    private final boolean journaled;
    private final int width;

    /** @param journal where the replaced rows and inserted keys go, in the same statement; null without undo */
    public CrossCopyWriter(
            Keyset keyset,
            DataSource source,
            Table target,
            Map<Column, String> columns,
            List<Column> conflictKeys,
            String where,
            Journal journal) {
        this.keyset = keyset;
        this.source = source;
        this.width = columns.size();
        List<String> exprs = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<String> casts = new ArrayList<>();
        List<String> arrays = new ArrayList<>();
        int i = 0;
        for (Map.Entry<Column, String> e : columns.entrySet()) {
            Column col = e.getKey();
            exprs.add("(" + e.getValue() + ")::text");
            names.add(col.quoted());
            casts.add("CAST(v.c" + i + " AS " + col.type() + ")");
            arrays.add("?::text[]");
            i++;
        }
        List<String> aliases = new ArrayList<>();
        for (int c = 0; c < width; c++) {
            aliases.add("c" + c);
        }
        String select =
                "SELECT " + String.join(", ", exprs) + " FROM " + keyset.table().qualifiedName() + " WHERE ";
        String tail = (where == null ? "" : " AND (" + where + ")") + " ORDER BY " + keyset.orderBy(false);
        this.reads = new String[keyset.shapes()];
        for (int shape = 0; shape < reads.length; shape++) {
            reads[shape] = select + keyset.rangePredicate(shape, (String) null) + tail;
        }
        String upsert = Upsert.clause(columns.keySet(), conflictKeys);
        this.journaled = journal != null;
        if (journal == null) {
            this.insert = "INSERT INTO " + target.qualifiedName() + " (" + String.join(", ", names) + ") SELECT "
                    + String.join(", ", casts) + " FROM unnest(" + String.join(", ", arrays) + ") AS v("
                    + String.join(", ", aliases) + ")" + upsert;
        } else {
            List<String> values = new ArrayList<>();
            List<String> sAliases = new ArrayList<>();
            int j = 0;
            for (Column col : columns.keySet()) {
                values.add("CAST(s.sluice_c" + j + " AS " + col.type() + ")");
                sAliases.add("sluice_c" + j);
                j++;
            }
            this.insert = CopyJournal.statement(
                    journal,
                    target,
                    List.copyOf(columns.keySet()),
                    values,
                    conflictKeys,
                    "s AS (SELECT * FROM unnest(" + String.join(", ", arrays) + ") AS v(" + String.join(", ", sAliases)
                            + "))",
                    upsert);
        }
    }

    @Override
    public long write(Connection target, KeyRange range) throws SQLException {
        List<String[]> rows;
        try (Connection s = source.getConnection()) {
            rows = Transaction.run(s, tx -> read(tx, range));
        }
        if (rows.isEmpty()) {
            return 0;
        }
        try (PreparedStatement ps = target.prepareStatement(insert)) {
            TextArrays.bind(target, ps, 1, rows, width);
            if (!journaled) {
                return ps.executeLargeUpdate();
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    /** The range's rows in the source, through the key's index as the chunk's own statements. */
    private List<String[]> read(Connection s, KeyRange range) throws SQLException {
        ChunkTimeouts.readThroughIndex(s);
        List<String[]> rows = new ArrayList<>();
        try (PreparedStatement ps = s.prepareStatement(reads[keyset.shape(range)])) {
            keyset.bind(ps, 1, range);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String[] row = new String[width];
                    for (int c = 0; c < width; c++) {
                        row[c] = rs.getString(c + 1);
                    }
                    rows.add(row);
                }
            }
        }
        return rows;
    }

    @Override
    public String sql(int shape) {
        return "source: " + reads[shape] + ";\n  target: " + insert;
    }

    @Override
    public String explainable(int shape) {
        return reads[shape]; // explained on the source, where it runs
    }
}
