package dev.sluice.engine.keyset;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

import dev.sluice.engine.Key;
import dev.sluice.engine.KeyRange;

/**
 * Finds the next chunk: the key range holding the next {@code rows} keys after a key, read from the key's index
 * alone. One statement hops {@code rows - 1} index entries past the checkpoint and returns the key it lands on
 * (an index-only scan of {@code rows} entries, nothing materialized or sorted). Only when fewer keys remain does
 * a second statement collect the rest, so the last chunk is whatever remains, however few. Rows inserted above
 * the checkpoint while a job runs are found by a later call, so a job ends only when no key lies above its
 * checkpoint.
 */
public final class Chunker {

    private final Keyset keyset;
    // Indexed by shape: bit 0 set when bounded below (a checkpoint), bit 1 when bounded above (a partition's end).
    private final Statements[] shapes = new Statements[4];

    /** The two statements for one shape. */
    private record Statements(String hop, String rest) {}

    public Chunker(Keyset keyset) {
        this.keyset = keyset;
        for (int shape = 0; shape < shapes.length; shape++) {
            boolean lo = (shape & 1) != 0;
            boolean hi = (shape & 2) != 0;
            shapes[shape] = new Statements(hop(keyset, lo, hi), rest(keyset, lo, hi));
        }
    }

    private static String window(Keyset k, boolean lo, boolean hi) {
        String where = (lo ? k.tuple() + " > " + k.parameters() : "")
                + (lo && hi ? " AND " : "")
                + (hi ? k.tuple() + " <= " + k.parameters() : "");
        return "SELECT " + k.selectList() + " FROM " + k.table().qualifiedName()
                + (where.isEmpty() ? "" : " WHERE " + where) + " ORDER BY " + k.orderBy(false);
    }

    /** The key {@code rows} entries after the checkpoint; the text cast applies to that one row only. */
    private static String hop(Keyset k, boolean lo, boolean hi) {
        return "SELECT " + k.textList() + " FROM (" + window(k, lo, hi) + " OFFSET ? LIMIT 1) hop";
    }

    /** Fewer than {@code rows} keys remain: the last of them and their count. */
    private static String rest(Keyset k, boolean lo, boolean hi) {
        // MATERIALIZED: the window is read once and then both counted and searched for its last key.
        return "WITH w AS MATERIALIZED (" + window(k, lo, hi) + " LIMIT ?)"
                + " SELECT " + k.textList() + ", (SELECT count(*) FROM w) FROM w ORDER BY " + k.orderBy(true)
                + " LIMIT 1";
    }

    /**
     * @param lo   the checkpoint, or null to start at the beginning
     * @param rows how many keys the range should hold at most
     * @return the range, or null when no key lies above {@code lo}
     */
    public KeyRange next(Connection c, Key lo, int rows) throws SQLException {
        return next(c, lo, null, rows);
    }

    /**
     * The next range after {@code lo} that ends at or below {@code hi}: a key-range partition's next chunk.
     *
     * @param hi the partition's last key, or null for no upper bound
     * @return the range, or null when no key lies above {@code lo} (and at or below {@code hi})
     */
    public KeyRange next(Connection c, Key lo, Key hi, int rows) throws SQLException {
        return next(c, lo, hi, rows, null);
    }

    /**
     * {@link #next(Connection, Key, Key, int)}, with {@code opening} (if not null) run first in the same round trip.
     */
    public KeyRange next(Connection c, Key lo, Key hi, int rows, Companion opening) throws SQLException {
        Statements s = shapes[(lo == null ? 0 : 1) | (hi == null ? 0 : 2)];
        try (PreparedStatement ps = c.prepareStatement(opening == null ? s.hop() : opening.sql() + ";\n" + s.hop())) {
            bindAfter(ps, opening == null ? 1 : opening.bind(ps, 1), lo, hi, rows - 1);
            ps.execute();
            if (opening != null) {
                opening.readFrom(ps);
                if (!ps.getMoreResults()) {
                    throw new SQLException("the range query returned no result");
                }
            }
            try (ResultSet rs = ps.getResultSet()) {
                if (rs.next()) {
                    return new KeyRange(lo, keyset.read(rs, 1), rows);
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement(s.rest())) {
            bindAfter(ps, 1, lo, hi, rows);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new KeyRange(lo, keyset.read(rs, 1), rs.getLong(keyset.width() + 1)) : null;
            }
        }
    }

    /** Binds the parameters of {@link #sql}: the checkpoint (if any) and the hop for {@code rows} keys. */
    public void bind(PreparedStatement ps, Key lo, int rows) throws SQLException {
        bindAfter(ps, 1, lo, null, rows - 1);
    }

    /**
     * The bounds' values (none when open), then one count: the hop's OFFSET or the rest's LIMIT; from parameter
     * {@code from}.
     */
    private void bindAfter(PreparedStatement ps, int from, Key lo, Key hi, int count) throws SQLException {
        int i = lo == null ? from : keyset.bind(ps, from, lo);
        i = hi == null ? i : keyset.bind(ps, i, hi);
        ps.setInt(i, count);
    }

    /** The statement that finds a full chunk, for {@code plan}. */
    public String sql(boolean fromTheStart) {
        return shapes[fromTheStart ? 0 : 1].hop();
    }
}
