package dev.sluice.engine.keyset;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a key space into ranges of about equal rows, for a job's parallel partitions. It reads a sample of the
 * table's keys ({@code TABLESAMPLE SYSTEM}, about {@value #SAMPLE_ROWS} rows whatever the table's size), sorted
 * by PostgreSQL in the key index's own order and collation, and cuts at its quantiles: every comparison of keys is
 * the server's, so a composite key or a collated text key is cut exactly where the chunks will find it. Where the
 * sample is too thin (a small table, a small remaining range), the range's keys are read from the index instead.
 */
public final class KeySplits {

    // Enough rows that each of 32 partitions holds within a few per cent of its share, few enough to read in a
    // fraction of a second from a table of a billion rows (the pages sampled are random, so this is random I/O).
    static final int SAMPLE_ROWS = 10_000;
    // A sample thinner than this many rows per range is read exactly instead.
    static final int MIN_SAMPLE_PER_PART = 20;
    // The exact read stops here; past it the last range of the interval takes the rest (correct, less even).
    static final int EXACT_LIMIT = 200_000;

    private final Keyset keyset;

    public KeySplits(Keyset keyset) {
        this.keyset = keyset;
    }

    /**
     * Cut keys for the {@code intervals} (disjoint key ranges, each {@code (lo, hi]} with null for open), so that
     * the ranges they make together hold about equal rows, {@code parts} of them in all.
     *
     * @param estimatedRows the planner's estimate of the table's rows (0 if unknown)
     * @return for each interval, its cut keys in order (a cut key ends a range and the next begins after it)
     */
    public List<List<Key>> cuts(Connection c, List<KeyRange> intervals, int parts, long estimatedRows)
            throws SQLException {
        double percent = estimatedRows <= 0 ? 100 : Math.min(100, 100.0 * SAMPLE_ROWS / estimatedRows);
        List<List<Key>> samples = sample(c, intervals, percent);
        if (percent < 100 && size(samples) < (long) MIN_SAMPLE_PER_PART * parts) {
            samples = sample(c, intervals, 100);
        }
        long total = size(samples);
        List<List<Key>> cuts = new ArrayList<>();
        for (int i = 0; i < intervals.size(); i++) {
            cuts.add(new ArrayList<>());
        }
        if (total == 0 || parts <= 1) {
            return cuts;
        }
        for (int j = 1; j < parts; j++) {
            long at = total * j / parts;
            int i = 0;
            while (at >= samples.get(i).size()) {
                at -= samples.get(i).size();
                i++;
            }
            Key cut = samples.get(i).get((int) at);
            List<Key> mine = cuts.get(i);
            boolean repeated = !mine.isEmpty() && mine.get(mine.size() - 1).equals(cut);
            if (!repeated && !cut.equals(intervals.get(i).hi())) {
                mine.add(cut);
            }
        }
        return cuts;
    }

    private List<List<Key>> sample(Connection c, List<KeyRange> intervals, double percent) throws SQLException {
        List<List<Key>> out = new ArrayList<>();
        for (KeyRange interval : intervals) {
            out.add(sample(c, interval, percent));
        }
        return out;
    }

    /** The keys in {@code (lo, hi]}: sampled, or (at 100%) read from the index up to the exact limit. */
    private List<Key> sample(Connection c, KeyRange interval, double percent) throws SQLException {
        boolean exact = percent >= 100;
        List<String> bounds = new ArrayList<>();
        if (interval.lo() != null) {
            bounds.add(keyset.tuple() + " > " + keyset.parameters());
        }
        if (interval.hi() != null) {
            bounds.add(keyset.tuple() + " <= " + keyset.parameters());
        }
        String sql = "SELECT " + keyset.textList() + " FROM (SELECT " + keyset.selectList() + " FROM "
                + keyset.table().qualifiedName() + (exact ? "" : " TABLESAMPLE SYSTEM (CAST(? AS double precision))")
                + (bounds.isEmpty() ? "" : " WHERE " + String.join(" AND ", bounds))
                + " ORDER BY " + keyset.orderBy(false) + (exact ? " LIMIT " + EXACT_LIMIT : "") + ") s";
        List<Key> keys = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            if (!exact) {
                ps.setDouble(i++, percent);
            }
            if (interval.lo() != null) {
                i = keyset.bind(ps, i, interval.lo());
            }
            if (interval.hi() != null) {
                keyset.bind(ps, i, interval.hi());
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    keys.add(keyset.read(rs, 1));
                }
            }
        }
        return keys;
    }

    private static long size(List<List<Key>> samples) {
        return samples.stream().mapToLong(List::size).sum();
    }
}
