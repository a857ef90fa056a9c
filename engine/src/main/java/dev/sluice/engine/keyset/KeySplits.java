package dev.sluice.engine.keyset;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.sluice.engine.Key;
import dev.sluice.engine.KeyRange;

/**
 * Cuts a key space into ranges of about equal rows, for a job's parallel partitions: every range within
 * 10% of the mean, whatever the keys' distribution or the rows' physical order. It reads either a
 * uniform sample of the rows, of a size that bounds each range's error (see the package README), or, where that
 * would read about as much, the rows' exact counts and the keys found by hopping through the key's index. Either way
 * PostgreSQL sorts and compares the keys, in the index's own order and collation, so a composite key or a collated
 * text key is cut exactly where the chunks will find it.
 *
 * <p>The sample is of rows, not pages ({@code TABLESAMPLE SYSTEM} reads whole pages, and on a table in key order
 * 10,000 keys were some 54 draws: the largest range 1.3 to 2 times the mean). Each probe names a random line pointer slot of a
 * random page, {@code (page, slot)} as a {@code tid}, and a TID scan fetches what lies there: a row if a visible one
 * does, else nothing. Every visible row has exactly one slot and every slot is as likely as another, so the rows hit
 * are a uniform sample, read in as many page reads as probes, whatever the table's size.
 */
public final class KeySplits {

    // The spec's promise: every range within 10% of the mean.
    private static final double TOLERANCE = 0.10;
    // Standard deviations of margin for each range: with a union over 32 ranges, a cut misses the promise about
    // once in 50,000 (normal tails: 32 x 2 x 2.9e-7).
    private static final double Z = 5;
    // Sampled keys for each range past the first: n = (N - 1) (Z / TOLERANCE)^2 keeps each range's relative standard
    // deviation, sqrt((N - 1) / n), at TOLERANCE / Z (the package README derives it). 2,500; 77,500 for 32 ranges.
    private static final long SAMPLE_PER_PART = Math.round(Z * Z / (TOLERANCE * TOLERANCE));
    // Probes that measure how many slots hold a row of the intervals: a few milliseconds, and to within about 2%
    // on a table of narrow rows (3/4 of the slots filled).
    private static final int CALIBRATION_PROBES = 10_000;
    // More probes than the measured share of slots needs for n keys, so that one round almost always brings n.
    private static final double MARGIN = 1.25;
    // At most this many probes at once: some five seconds of a server's core, an array of 48 MB.
    private static final long MAX_PROBES = 8_000_000;
    // Rounds of probes, each larger when the last brought fewer than n keys, before the largest sample is used.
    private static final int ROUNDS = 3;
    // PostgreSQL's page header, and a tuple header with its line pointer: MaxHeapTuplesPerPage = (block - 24) / 28.
    private static final String SLOTS = "(current_setting('block_size')::int - 24) / 28";

    private final Keyset keyset;
    private final Chunker chunker;

    public KeySplits(Keyset keyset) {
        this.keyset = keyset;
        this.chunker = new Chunker(keyset);
    }

    /**
     * Cut keys for the {@code intervals} (disjoint key ranges, each {@code (lo, hi]} with null for open), so that
     * the ranges they make together hold about equal rows, {@code parts} of them in all.
     *
     * @return for each interval, its cut keys in order (a cut key ends a range and the next begins after it)
     */
    public List<List<Key>> cuts(Connection c, List<KeyRange> intervals, int parts) throws SQLException {
        if (parts <= 1) {
            return intervals.stream().<List<Key>>map(i -> List.of()).toList();
        }
        long n = SAMPLE_PER_PART * (parts - 1);
        Space space = space(c);
        Ordered keys = null;
        if (space.slots() > 0) {
            long hits = hits(c, intervals, space, CALIBRATION_PROBES);
            double share = (double) hits / CALIBRATION_PROBES;
            double probes = share == 0 ? Double.POSITIVE_INFINITY : n * MARGIN / share;
            // Counting the intervals' rows and hopping through them reads each of their index entries twice.
            if (2 * share * space.slots() > probes) {
                keys = sample(c, intervals, space, n, (long) Math.ceil(probes));
            }
        }
        return cut(keys != null ? keys : new Counted(c, intervals), intervals, parts);
    }

    /** The keys of the intervals in key order, each interval's apart: how many, and the one at a position. */
    private interface Ordered {
        long size(int interval);

        /** The key at {@code index} (from 0) of an interval, asked for in increasing order; null if gone. */
        Key at(int interval, long index) throws SQLException;
    }

    /** A uniform sample of the intervals' keys, sorted by PostgreSQL. */
    private record Sample(List<List<Key>> keys) implements Ordered {
        @Override
        public long size(int interval) {
            return keys.get(interval).size();
        }

        @Override
        public Key at(int interval, long index) {
            return keys.get(interval).get((int) index);
        }

        long total() {
            return keys.stream().mapToLong(List::size).sum();
        }
    }

    /** Every key of the intervals: their rows counted, and a key found by hopping the index from the last one. */
    private final class Counted implements Ordered {
        private final Connection c;
        private final List<KeyRange> intervals;
        private final long[] sizes;
        private final long[] at;
        private final Key[] last;

        Counted(Connection c, List<KeyRange> intervals) throws SQLException {
            this.c = c;
            this.intervals = intervals;
            this.sizes = new long[intervals.size()];
            this.at = new long[intervals.size()];
            this.last = new Key[intervals.size()];
            for (int i = 0; i < intervals.size(); i++) {
                sizes[i] = count(c, intervals.get(i));
                at[i] = -1;
                last[i] = intervals.get(i).lo();
            }
        }

        @Override
        public long size(int interval) {
            return sizes[interval];
        }

        @Override
        public Key at(int interval, long index) throws SQLException {
            while (at[interval] < index) {
                int hop = (int) Math.min(index - at[interval], Integer.MAX_VALUE);
                KeyRange r =
                        chunker.next(c, last[interval], intervals.get(interval).hi(), hop);
                if (r == null || r.rows() < hop) {
                    return null; // rows went while the cut was read: fewer cuts, every row still in a range
                }
                at[interval] += hop;
                last[interval] = r.hi();
            }
            return last[interval];
        }
    }

    /**
     * The cut keys: each interval given a share of the {@code parts} ranges (at least one, at most its keys), then
     * cut into that many runs of equal length. A range never spans two intervals: between them lie keys that other parts have done.
     */
    private static List<List<Key>> cut(Ordered keys, List<KeyRange> intervals, int parts) throws SQLException {
        int[] shares = shares(keys, intervals.size(), parts);
        List<List<Key>> cuts = new ArrayList<>();
        for (int i = 0; i < intervals.size(); i++) {
            List<Key> mine = new ArrayList<>();
            long size = keys.size(i);
            for (int j = 1; j < shares[i]; j++) {
                Key cut = keys.at(i, size * j / shares[i] - 1); // the last of the j-th run

                boolean repeated = !mine.isEmpty() && mine.get(mine.size() - 1).equals(cut);
                if (cut != null && !repeated && !cut.equals(intervals.get(i).hi())) {
                    mine.add(cut);
                }
            }
            cuts.add(mine);
        }
        return cuts;
    }

    /**
     * How many ranges each interval is cut into: one each, then one more at a time to the interval whose ranges are
     * the largest, which leaves the largest range (the one the others wait for) as small as {@code parts} allows.
     */
    private static int[] shares(Ordered keys, int intervals, int parts) {
        int[] shares = new int[intervals];
        Arrays.fill(shares, 1);
        for (int more = parts - intervals; more > 0; more--) {
            int largest = -1;
            for (int i = 0; i < intervals; i++) {
                if (keys.size(i) > shares[i]
                        && (largest < 0
                                || (double) keys.size(i) / shares[i] > (double) keys.size(largest) / shares[largest])) {
                    largest = i;
                }
            }
            if (largest < 0) {
                break; // fewer keys than ranges
            }
            shares[largest]++;
        }
        return shares;
    }

    /** The table's heap: pages (of its largest partition, for a partitioned one) and line pointer slots a page. */
    private record Space(long pages, int perPage) {
        long slots() {
            return pages * perPage;
        }
    }

    private Space space(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(max(pg_relation_size(c.oid)), 0)"
                + " / current_setting('block_size')::bigint, " + SLOTS + " FROM pg_class c WHERE c.oid = ? AND"
                + " c.relkind = 'r' OR c.oid IN (SELECT relid FROM pg_partition_tree(CAST(? AS oid)::regclass)"
                + " WHERE isleaf)")) {
            ps.setLong(1, keyset.table().oid());
            ps.setLong(2, keyset.table().oid());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new Space(rs.getLong(1), rs.getInt(2));
            }
        }
    }

    /**
     * Rounds of probes until one brings {@code n} keys of the intervals; the largest sample if none does.
     *
     * @return null when no probe found a key (the rows went): the intervals are then counted
     */
    private Sample sample(Connection c, List<KeyRange> intervals, Space space, long n, long probes)
            throws SQLException {
        Sample best = null;
        long next = probes;
        for (int round = 0; round < ROUNDS; round++) {
            long p = Math.min(next, MAX_PROBES);
            Sample keys = keys(c, intervals, space, p);
            if (best == null || keys.total() > best.total()) {
                best = keys;
            }
            if (keys.total() >= n || p == MAX_PROBES) {
                break;
            }
            next = keys.total() == 0 ? 4 * p : (long) Math.ceil(p * MARGIN * n / keys.total());
        }
        return best.total() == 0 ? null : best;
    }

    /** How many rows of the intervals {@code probes} random (page, slot) probes find. */
    private long hits(Connection c, List<KeyRange> intervals, Space space, long probes) throws SQLException {
        try (PreparedStatement ps = probe(c, intervals, space, probes, true);
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The keys of the intervals that {@code probes} random (page, slot) probes find, sorted in the index's order. */
    private Sample keys(Connection c, List<KeyRange> intervals, Space space, long probes) throws SQLException {
        List<List<Key>> keys = new ArrayList<>();
        for (int i = 0; i < intervals.size(); i++) {
            keys.add(new ArrayList<>());
        }
        try (PreparedStatement ps = probe(c, intervals, space, probes, false);
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                keys.get(rs.getInt(1)).add(keyset.read(rs, 2));
            }
        }
        return new Sample(keys);
    }

    /** The probe, bound: each row found with the interval it lies in (its rows counted, when {@code count}). */
    private PreparedStatement probe(Connection c, List<KeyRange> intervals, Space space, long probes, boolean count)
            throws SQLException {
        StringBuilder which = new StringBuilder("CASE");
        for (int i = 0; i < intervals.size(); i++) {
            String bounds = bounds(intervals.get(i));
            which.append(" WHEN ")
                    .append(bounds.isEmpty() ? "true" : bounds)
                    .append(" THEN ")
                    .append(i);
        }
        which.append(" END");
        // OFFSET 0: the TID scan stays below the intervals' test, which the planner could otherwise serve from the
        // index.
        String probed =
                "SELECT " + keyset.selectList() + " FROM " + keyset.table().qualifiedName()
                        + " WHERE ctid = ANY (ARRAY(SELECT format('(%s,%s)', floor(random() * ?)::bigint,"
                        + " 1 + floor(random() * ?)::int)::tid FROM generate_series(1, ?))) OFFSET 0";
        String inner = "SELECT " + which + " AS sluice_interval, " + keyset.selectList() + " FROM (" + probed + ") p";
        String sql = count
                ? "SELECT count(*) FROM (" + inner + ") s WHERE sluice_interval IS NOT NULL"
                : "SELECT sluice_interval, " + keyset.textList() + " FROM (" + inner + ") s"
                        + " WHERE sluice_interval IS NOT NULL ORDER BY sluice_interval, " + keyset.orderBy(false);
        PreparedStatement ps = c.prepareStatement(sql);
        try {
            int i = 1;
            for (KeyRange interval : intervals) {
                i = bind(ps, i, interval);
            }
            ps.setLong(i++, space.pages());
            ps.setInt(i++, space.perPage());
            ps.setLong(i, probes);
            return ps;
        } catch (SQLException | RuntimeException e) {
            ps.close();
            throw e;
        }
    }

    /** The rows of one interval, counted. */
    private long count(Connection c, KeyRange interval) throws SQLException {
        String bounds = bounds(interval);
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM "
                + keyset.table().qualifiedName() + (bounds.isEmpty() ? "" : " WHERE " + bounds))) {
            bind(ps, 1, interval);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** {@code key > lo AND key <= hi}, either side left out where open; empty for the whole key space. */
    private String bounds(KeyRange interval) {
        List<String> bounds = new ArrayList<>();
        if (interval.lo() != null) {
            bounds.add(keyset.tuple() + " > " + keyset.parameters());
        }
        if (interval.hi() != null) {
            bounds.add(keyset.tuple() + " <= " + keyset.parameters());
        }
        return String.join(" AND ", bounds);
    }

    private int bind(PreparedStatement ps, int first, KeyRange interval) throws SQLException {
        int i = first;
        if (interval.lo() != null) {
            i = keyset.bind(ps, i, interval.lo());
        }
        if (interval.hi() != null) {
            i = keyset.bind(ps, i, interval.hi());
        }
        return i;
    }
}
