package dev.sluice.engine.chunk;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.sluice.engine.KeyRange;
import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Keyset;
import dev.sluice.engine.spi.Transformer;

import org.postgresql.util.PGobject;

/**
 * Java-transformer mode: reads the chunk's rows (key, the transformer's inputs, the row's version, {@code xmin}, and
 * its place, {@code ctid}), transforms them in Java, and writes the results with one {@code UPDATE t SET ... FROM
 * unnest(text[], ...) v WHERE t.ctid = v.ctid AND t.xmin = v.xmin AND <the table's file is the one read> AND t.key in
 * (lo, hi]}: an optimistic write, which changes a row only if no one changed it since it was read (any change, or a
 * delete and insert of the same key, makes a new row version elsewhere with another xmin; in READ COMMITTED the
 * UPDATE re-checks the condition on the newest version). Rows it skipped are read again {@code FOR UPDATE}, which
 * holds them until the chunk commits, and written, found by key: the locked path, for the few rows the application
 * changed meanwhile. Not locking the rows on the first read spares a WAL record and a dirtied page per row ({@code FOR
 * UPDATE} writes each row's xmax), and lets the read happen ahead of time, on another connection
 * ({@link Prefetching}). Memory holds a chunk, two with the read ahead.
 *
 * <p>Rows are found by their place, a TID scan per row, no walk of the key's index (the join's part of a 20,000-row
 * write measured at 38 ms by place, 48 by key). Within one file of the table a place and an xmin name one row
 * version: a place is reused only after its row is gone, by a row another transaction wrote. Across files they do
 * not: read ahead in a transaction of its own, the rows can be moved before the chunk's write (VACUUM FULL and CLUSTER
 * write a new file and keep each row's xmin, and rows loaded together share one), and a place read then holds another
 * row, often of the same chunk. So the write names the file the rows were read from ({@code pg_relation_filenode},
 * read in the rows' transaction, under their lock), and in a rewritten table finds no row by place: the locked path
 * writes them by key. Not on a table whose rows lie in other tables too (a partitioned table, an inheritance parent),
 * whose tables number their rows alike and would each be tried for every row: there the write joins by key and
 * version, as the locked path does.
 *
 * <p>The range predicate in the UPDATE is not redundant: a row found outside the range is not written. By key it
 * bounds the join's read of the table: without it PostgreSQL, estimating the join from the array's length alone,
 * could hash the whole table for every chunk (a sequential scan per chunk, measured at 0.75 s per 30,000-row chunk
 * on a 2,000,000-row table). By place it is a filter only: with sequential scans off ({@link ChunkTimeouts}) a TID
 * scan per row is then the only way to the rows, whatever the planner estimates (as an index condition it let a
 * range estimated at a row be read and compared with every listed row, a nested loop over the list per row).
 */
public final class JavaWriter implements ChunkWriter {

    private final Keyset keyset;
    private final Transformer transformer;
    private final List<Column> reads;
    private final List<Column> writes;
    private final String where;
    private final String[] selects;
    private final String[] updates;
    private final Journal journal;
    private final boolean byVersion;
    private final Map<String, Integer> readIndex = new HashMap<>();

    /**
     * A chunk's rows as read and transformed, for the rows to write (those the transformer did not skip), column by
     * column and already encoded as the write's array parameters: the keys (for a write by key), the transformer's
     * results, whether each row sets each column, the pre-images (with an undo journal), and the versions read and
     * their places (xmin and ctid; none when read locked; no places on a partitioned table). Encoded where they are
     * read, so that with {@link Prefetching} the chunk's own thread only sends them: they are pgJDBC's binary
     * {@code text[]} and {@code boolean[]} parameters, bytes that any connection to the same server binds.
     *
     * @param rowsRead the rows read, those the transformer left as they are included
     */
    public record Read(
            int size,
            Array[] keys,
            Array[] values,
            Array[] sets,
            boolean allSet,
            Array[] before,
            Array versions,
            Array places,
            long file,
            long rowsRead) {

        /**
         * Binds the keys (none for a write by place), then each written column's values and, with {@code flags},
         * whether each row sets it.
         */
        public int bind(PreparedStatement ps, int first, boolean flags) throws SQLException {
            int p = first;
            for (Array k : keys) {
                ps.setArray(p++, k);
            }
            for (int i = 0; i < values.length; i++) {
                ps.setArray(p++, values[i]);
                if (flags) {
                    ps.setArray(p++, sets[i]);
                }
            }
            return p;
        }
    }

    /**
     * @param where   the spec's filter (safe for JDBC), or null: rows it does not match are neither read nor written
     * @param journal where the pre-images go (read with the rows, written with the update); null without undo
     */
    public JavaWriter(
            Keyset keyset,
            Transformer transformer,
            List<Column> reads,
            List<Column> writes,
            String where,
            Journal journal) {
        // A partitioned table's partitions (an inheritance parent's children) number their rows alike, and a join by
        // place would try every one of them for every row: there, rows are found by key.
        this(keyset, transformer, reads, writes, where, journal, !keyset.table().partitioned());
    }

    /**
     * A reader of a range's rows as the transformer returns them, for a check that compares them with the table by
     * key ({@link #read}; its reads carry the keys).
     */
    public static JavaWriter reader(Keyset keyset, Transformer transformer, List<Column> reads, List<Column> writes) {
        return new JavaWriter(keyset, transformer, reads, writes, null, null, false);
    }

    private JavaWriter(
            Keyset keyset,
            Transformer transformer,
            List<Column> reads,
            List<Column> writes,
            String where,
            Journal journal,
            boolean byVersion) {
        this.keyset = keyset;
        this.where = where;
        this.transformer = transformer;
        this.reads = List.copyOf(reads);
        this.writes = List.copyOf(writes);
        this.journal = journal;
        this.byVersion = byVersion;
        for (int i = 0; i < this.reads.size(); i++) {
            readIndex.put(this.reads.get(i).name(), i);
        }
        this.selects = new String[keyset.shapes() * 2];
        this.updates = new String[keyset.shapes() * 4];
        for (int range = 0; range < keyset.shapes(); range++) {
            for (int variant = 0; variant < 4; variant++) {
                if (variant < 2) {
                    selects[range * 2 + variant] = select(range, variant == 1);
                }
                updates[range * 4 + variant] = update(range, (variant & 1) != 0, (variant & 2) != 0);
            }
        }
    }

    // Statements per range shape (Keyset.shape): the read, unlocked or locked; the write of rows read unlocked or
    // locked, each where every row sets every column (no per-row flags to send, no CASE to evaluate) or not.
    private int select(KeyRange range, boolean locked) {
        return keyset.shape(range) * 2 + (locked ? 1 : 0);
    }

    private int update(KeyRange range, boolean locked, boolean allSet) {
        return keyset.shape(range) * 4 + (locked ? 1 : 0) + (allSet ? 2 : 0);
    }

    /**
     * The read: unlocked, with each row's version; or locked ({@code FOR UPDATE}), leaving out the rows this
     * transaction already wrote (their version is its own).
     */
    private String select(int shape, boolean locked) {
        StringBuilder sb = new StringBuilder("SELECT ").append(keyset.textList());
        if (!locked) {
            sb.append(", xmin::text");
            if (byVersion) {
                sb.append(", ctid::text");
            }
        }
        for (Column c : reads) {
            sb.append(", ").append(c.quoted());
        }
        if (journal != null) {
            for (Column c : writes) {
                sb.append(", ").append(c.quoted()).append("::text");
            }
        }
        return sb.append(" FROM ")
                .append(keyset.table().qualifiedName())
                .append(" WHERE ")
                .append(keyset.rangePredicate(shape, (String) null))
                .append(where == null ? "" : " AND (" + where + ")")
                .append(locked ? " AND NOT (xmin = pg_current_xact_id()::xid)" : "")
                .append(" ORDER BY ")
                .append(keyset.orderBy(false))
                .append(locked ? " FOR UPDATE" : "")
                .toString();
    }

    /**
     * The write: of rows read unlocked, only where the version is still the one read; of locked rows, all. With
     * {@code allSet}, every row sets every column; otherwise a flag per row and column says whether to.
     */
    private String update(int shape, boolean locked, boolean allSet) {
        boolean byKey = !byPlace(locked);
        List<String> names = new ArrayList<>();
        List<String> arrays = new ArrayList<>();
        for (int i = 0; byKey && i < keyset.width(); i++) {
            names.add("k" + i);
            arrays.add("?::text[]");
        }
        List<String> sets = new ArrayList<>();
        for (int i = 0; i < writes.size(); i++) {
            names.add("w" + i);
            arrays.add("?::text[]");
            Column c = writes.get(i);
            if (allSet) {
                sets.add(c.quoted() + " = CAST(v.w" + i + " AS " + c.castType() + ")");
                continue;
            }
            // CASE keeps a column the transformer did not return: the keep flag array says which.
            sets.add(c.quoted() + " = CASE WHEN v.s" + i + " THEN CAST(v.w" + i + " AS " + c.castType() + ") ELSE t."
                    + c.quoted() + " END");
            names.add("s" + i);
            arrays.add("?::boolean[]");
        }
        List<String> keyEq = new ArrayList<>();
        for (int i = 0; byKey && i < keyset.width(); i++) {
            Column k = keyset.columns().get(i);
            keyEq.add("t." + k.quoted() + " = CAST(v.k" + i + " AS " + k.castType() + ")");
        }
        if (!locked) {
            names.add("x");
            arrays.add("?::text[]");
            if (!byKey) {
                names.add("c");
                arrays.add("?::text[]");
                keyEq.add("t.ctid = CAST(v.c AS tid)");
                // Places are the file's the rows were read from: a table rewritten since (VACUUM FULL, CLUSTER keep
                // xmin) has others, and then no row is found by place; the locked path finds them by key.
                keyEq.add("(SELECT pg_relation_filenode(CAST(? AS oid))) = CAST(? AS oid)");
            }
            keyEq.add("t.xmin = CAST(v.x AS xid)");
        }
        // By place, the range is a filter of the rows found by place, never a way to read the table: with sequential
        // scans off the only way to the rows is then a TID scan per listed row. As an index condition it let the
        // planner, estimating the range at a row or so (before PostgreSQL 18 a row comparison is estimated from the
        // key's first column alone; statistics older than the rows), read the range and compare every row of it with
        // every listed row (ChunkPlansTest).
        String range = byKey ? keyset.rangePredicate(shape, "t") : keyset.rangeFilter(shape, "t");
        if (journal != null) {
            List<String> before = new ArrayList<>();
            for (int i = 0; i < writes.size(); i++) {
                names.add("b" + i);
                arrays.add("?::text[]");
                before.add("v.b" + i);
            }
            return "WITH w AS (UPDATE " + keyset.table().qualifiedName() + " AS t SET " + String.join(", ", sets)
                    + " FROM unnest(" + String.join(", ", arrays) + ") AS v(" + String.join(", ", names) + ")"
                    + " WHERE " + String.join(" AND ", keyEq) + " AND " + range
                    + " RETURNING "
                    + Journal.row(Journal.texts("t.", keyset.columns()), before, "true", Journal.hash("t.", writes))
                    + ") " + journal.updatesFrom("w", keyset.width(), writes.size());
        }
        return "UPDATE " + keyset.table().qualifiedName() + " AS t SET " + String.join(", ", sets)
                + " FROM unnest(" + String.join(", ", arrays) + ") AS v(" + String.join(", ", names) + ")"
                + " WHERE " + String.join(" AND ", keyEq) + " AND " + range;
    }

    @Override
    public long write(Connection c, KeyRange range) throws SQLException {
        return write(c, range, read(c, range));
    }

    /** Reads and transforms the range's rows without locking them: on any connection, at any time before the write. */
    public Read read(Connection c, KeyRange range) throws SQLException {
        return read(c, range, false);
    }

    /**
     * Writes what {@code read} holds, in the chunk's transaction on {@code c}: the rows still as they were read, then,
     * locked and read again, the rows someone changed since.
     */
    public long write(Connection c, KeyRange range, Read read) throws SQLException {
        long written = read.size() == 0 ? 0 : update(c, range, read, false);
        if (written < read.size()) {
            Read rest = read(c, range, true);
            written += rest.size() == 0 ? 0 : update(c, range, rest, true);
        }
        return written;
    }

    private Read read(Connection c, KeyRange range, boolean locked) throws SQLException {
        int width = keyset.width();
        // The keys only for a write that finds its rows by key.
        Columns keys = new Columns(byPlace(locked) ? 0 : width);
        Columns values = new Columns(writes.size());
        Columns before = new Columns(journal == null ? 0 : writes.size());
        List<Boolean[]> sets = new ArrayList<>();
        List<String> versions = new ArrayList<>();
        List<String> places = new ArrayList<>();
        boolean allSet = true;
        long rowsRead = 0;
        int first = width + 1 + (locked ? 0 : byVersion ? 2 : 1);
        try (PreparedStatement ps = c.prepareStatement(selects[select(range, locked)])) {
            keyset.bind(ps, 1, range);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rowsRead++;
                    Map<String, Object> out = transformer.transform(row(rs, first));
                    if (out == null) {
                        continue;
                    }
                    keys.add(rs, 1);
                    String[] row = new String[writes.size()];
                    Boolean[] set = new Boolean[row.length];
                    for (int i = 0; i < row.length; i++) {
                        String name = writes.get(i).name();
                        Object v = out.get(name);
                        set[i] = v != null || out.containsKey(name);
                        allSet &= set[i];
                        row[i] = v == null ? null : v.toString();
                    }
                    values.add(row);
                    sets.add(set);
                    if (!locked) {
                        versions.add(rs.getString(width + 1));
                        if (byVersion) {
                            places.add(rs.getString(width + 2));
                        }
                    }
                    before.add(rs, first + reads.size());
                }
            }
        }
        return new Read(
                sets.size(),
                keys.encode(c),
                values.encode(c),
                flags(c, sets),
                allSet,
                before.encode(c),
                locked ? null : c.createArrayOf("text", versions.toArray(String[]::new)),
                byPlace(locked) ? c.createArrayOf("text", places.toArray(String[]::new)) : null,
                byPlace(locked) && !sets.isEmpty() ? file(c) : 0,
                rowsRead);
    }

    /** Whether the write of rows read so finds them by place: read unlocked, from a table that holds its rows. */
    private boolean byPlace(boolean locked) {
        return !locked && byVersion;
    }

    /**
     * The table's file now: read after the rows, in their transaction, whose lock on the table keeps it the file they
     * were read from until the transaction ends.
     */
    private long file(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_relation_filenode(CAST(? AS oid))")) {
            ps.setLong(1, keyset.table().oid());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Per written column, whether each row sets it, as a {@code boolean[]} parameter. */
    private Array[] flags(Connection c, List<Boolean[]> sets) throws SQLException {
        Array[] flags = new Array[writes.size()];
        for (int i = 0; i < flags.length; i++) {
            Boolean[] column = new Boolean[sets.size()];
            for (int r = 0; r < column.length; r++) {
                column[r] = sets.get(r)[i];
            }
            flags[i] = c.createArrayOf("bool", column);
        }
        return flags;
    }

    private long update(Connection c, KeyRange range, Read read, boolean locked) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(updates[update(range, locked, read.allSet())])) {
            int p = read.bind(ps, 1, !read.allSet());
            if (!locked) {
                ps.setArray(p++, read.versions());
                if (byVersion) {
                    ps.setArray(p++, read.places());
                }
            }
            for (Array b : read.before()) {
                ps.setArray(p++, b);
            }
            if (byPlace(locked)) {
                ps.setLong(p++, keyset.table().oid());
                ps.setLong(p++, read.file());
            }
            keyset.bind(ps, p, range);
            if (journal == null) {
                return ps.executeLargeUpdate();
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    /** Text columns gathered row by row, encoded as {@code text[]} parameters at the end. */
    private static final class Columns {
        private final List<List<String>> columns = new ArrayList<>();

        Columns(int width) {
            for (int i = 0; i < width; i++) {
                columns.add(new ArrayList<>());
            }
        }

        void add(String[] row) {
            for (int i = 0; i < row.length; i++) {
                columns.get(i).add(row[i]);
            }
        }

        /** Adds columns {@code first ..} of the current row of {@code rs}, read as text. */
        void add(ResultSet rs, int first) throws SQLException {
            for (int i = 0; i < columns.size(); i++) {
                columns.get(i).add(rs.getString(first + i));
            }
        }

        Array[] encode(Connection c) throws SQLException {
            Array[] out = new Array[columns.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = c.createArrayOf("text", columns.get(i).toArray(String[]::new));
            }
            return out;
        }
    }

    /**
     * The current row of {@code rs} as the transformer sees it: a view that reads a column when asked (no copy of the
     * row, nothing converted that the transformer does not use). Valid during the {@code transform} call only.
     */
    private Transformer.Row row(ResultSet rs, int first) {
        return new Transformer.Row() {
            @Override
            public String text(String column) {
                int i = readIndex.getOrDefault(column, -1);
                try {
                    return i < 0 ? null : rs.getString(first + i);
                } catch (SQLException e) {
                    throw new IllegalStateException("cannot read column " + column + ": " + e.getMessage(), e);
                }
            }

            @Override
            public Object value(String column) {
                int i = readIndex.getOrDefault(column, -1);
                try {
                    Object v = i < 0 ? null : rs.getObject(first + i);
                    return v instanceof PGobject pg ? pg.getValue() : v;
                } catch (SQLException e) {
                    throw new IllegalStateException("cannot read column " + column + ": " + e.getMessage(), e);
                }
            }
        };
    }

    @Override
    public String sql(int shape) {
        return selects[shape * 2] + ";\n  " + updates[shape * 4] + ";\n  -- rows changed since they were read:\n  "
                + selects[shape * 2 + 1] + ";\n  " + updates[shape * 4 + 1];
    }

    @Override
    public String explainable(int shape) {
        return selects[shape * 2];
    }
}
