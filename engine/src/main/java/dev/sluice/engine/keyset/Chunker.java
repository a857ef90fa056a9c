package dev.sluice.engine.keyset;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds the next chunk: the key range holding the next {@code rows} keys after a key, read from the key's index
 * alone (an index-only scan of at most {@code rows} entries). The last chunk is whatever remains, however few.
 * Rows inserted above the checkpoint while a job runs are found by a later call, so a job ends only when no key
 * lies above its checkpoint.
 */
public final class Chunker {

    private final Keyset keyset;
    private final String fromStart;
    private final String after;

    public Chunker(Keyset keyset) {
        this.keyset = keyset;
        this.fromStart = query(keyset, false);
        this.after = query(keyset, true);
    }

    private static String query(Keyset k, boolean bounded) {
        // MATERIALIZED: the window is read once and then both counted and searched for its last key.
        return "WITH w AS MATERIALIZED (SELECT " + k.selectList() + " FROM " + k.table().qualifiedName()
                + (bounded ? " WHERE " + k.tuple() + " > " + k.parameters() : "")
                + " ORDER BY " + k.orderBy(false) + " LIMIT ?)"
                + " SELECT " + k.textList() + ", (SELECT count(*) FROM w) FROM w ORDER BY " + k.orderBy(true)
                + " LIMIT 1";
    }

    /**
     * @param lo   the checkpoint, or null to start at the beginning
     * @param rows how many keys the range should hold at most
     * @return the range, or null when no key lies above {@code lo}
     */
    public KeyRange next(Connection c, Key lo, int rows) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(lo == null ? fromStart : after)) {
            int i = lo == null ? 1 : keyset.bind(ps, 1, lo);
            ps.setInt(i, rows);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                List<String> hi = new ArrayList<>(keyset.width());
                for (int col = 1; col <= keyset.width(); col++) {
                    hi.add(rs.getString(col));
                }
                return new KeyRange(lo, new Key(hi), rs.getLong(keyset.width() + 1));
            }
        }
    }

    /** The statement {@link #next} runs, for {@code plan}. */
    public String sql(boolean fromTheStart) {
        return fromTheStart ? fromStart : after;
    }
}
