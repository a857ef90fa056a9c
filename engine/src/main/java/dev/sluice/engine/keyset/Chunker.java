package dev.sluice.engine.keyset;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

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
    private final Statements fromStart;
    private final Statements after;

    /** The two statements for one shape (from the start of the table, or after a key). */
    private record Statements(String hop, String rest) {
    }

    public Chunker(Keyset keyset) {
        this.keyset = keyset;
        this.fromStart = new Statements(hop(keyset, false), rest(keyset, false));
        this.after = new Statements(hop(keyset, true), rest(keyset, true));
    }

    private static String window(Keyset k, boolean bounded) {
        return "SELECT " + k.selectList() + " FROM " + k.table().qualifiedName()
                + (bounded ? " WHERE " + k.tuple() + " > " + k.parameters() : "") + " ORDER BY " + k.orderBy(false);
    }

    /** The key {@code rows} entries after the checkpoint; the text cast applies to that one row only. */
    private static String hop(Keyset k, boolean bounded) {
        return "SELECT " + k.textList() + " FROM (" + window(k, bounded) + " OFFSET ? LIMIT 1) hop";
    }

    /** Fewer than {@code rows} keys remain: the last of them and their count. */
    private static String rest(Keyset k, boolean bounded) {
        // MATERIALIZED: the window is read once and then both counted and searched for its last key.
        return "WITH w AS MATERIALIZED (" + window(k, bounded) + " LIMIT ?)"
                + " SELECT " + k.textList() + ", (SELECT count(*) FROM w) FROM w ORDER BY " + k.orderBy(true)
                + " LIMIT 1";
    }

    /**
     * @param lo   the checkpoint, or null to start at the beginning
     * @param rows how many keys the range should hold at most
     * @return the range, or null when no key lies above {@code lo}
     */
    public KeyRange next(Connection c, Key lo, int rows) throws SQLException {
        Statements s = lo == null ? fromStart : after;
        try (PreparedStatement ps = c.prepareStatement(s.hop())) {
            bind(ps, lo, rows);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return new KeyRange(lo, keyset.read(rs, 1), rows);
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement(s.rest())) {
            bindAfter(ps, lo, rows);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new KeyRange(lo, keyset.read(rs, 1), rs.getLong(keyset.width() + 1)) : null;
            }
        }
    }

    /** Binds the parameters of {@link #sql}: the checkpoint (if any) and the hop for {@code rows} keys. */
    public void bind(PreparedStatement ps, Key lo, int rows) throws SQLException {
        bindAfter(ps, lo, rows - 1);
    }

    /** The checkpoint's values (none from the start), then one count: the hop's OFFSET or the rest's LIMIT. */
    private void bindAfter(PreparedStatement ps, Key lo, int count) throws SQLException {
        int i = lo == null ? 1 : keyset.bind(ps, 1, lo);
        ps.setInt(i, count);
    }

    /** The statement that finds a full chunk, for {@code plan}. */
    public String sql(boolean fromTheStart) {
        return (fromTheStart ? fromStart : after).hop();
    }
}
