package dev.sluice.engine.preflight;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import javax.sql.DataSource;

import dev.sluice.engine.CostEstimate;
import dev.sluice.engine.Key;
import dev.sluice.engine.KeyRange;
import dev.sluice.engine.chunk.ChunkTimeouts;
import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.KeySplits;
import dev.sluice.engine.spec.JobSpec;

/**
 * What the whole run will cost, from a sample chunk written for real in a transaction that is always rolled back
 * (its WAL is written all the same, as a real chunk's would be). The sample is the second of two chunks: the first
 * one's full-page images of the index pages it touched would be counted against a few rows, where the run spreads
 * each over a whole page of entries (measured: an index on the written column made a single-chunk sample
 * overestimate the run's WAL 2.15 times). The estimate: WAL and time per row, and so in total and at the
 * configured throttle; whether updates can be HOT (no index on a written column, room in the pages); the index
 * entries each row writes otherwise; the dead row versions left for vacuum; and a one-line recommendation where
 * something is costly.
 */
public final class CostSampler {

    // Large enough that a chunk's fixed costs (commit, range finding) weigh little per row, small enough to be quick.
    static final int SAMPLE_ROWS = 2000;
    private static final long DAY_SECONDS = 86_400;
    // PostgreSQL counts the updates of a rolled-back transaction too, so every plan's sample (and a dry run's chunk)
    // adds up to SAMPLE_ROWS * 1.5 to the table's past updates. Evidence that the application updates the table is
    // many times what a few of those add up to; below it, the past HOT share says nothing and no fillfactor is advised.
    static final long MIN_PAST_UPDATES = 10L * SAMPLE_ROWS;
    // Besides a connection per partition while its chunk runs: the runner's lock, its throttle record, the mailbox.
    static final int RUNNER_CONNECTIONS = 3;

    private CostSampler() {}

    public static CostEstimate of(DataSource dataSource, Prepared prepared) throws SQLException {
        JobSpec spec = prepared.spec();
        double hotShare;
        try (Connection c = dataSource.getConnection()) {
            hotShare = pastHotShare(c, prepared.written()); // before the sample: it counts as updates too
        }
        long sampleRows;
        long sampleWritten;
        long wal;
        long nanos;
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                ChunkTimeouts timeouts = new ChunkTimeouts(
                        spec.timeouts().lock(), spec.timeouts().statement());
                ChunkTimeouts.Start start = timeouts.apply(c);
                long started = System.nanoTime();
                KeyRange range = next(c, prepared, null, SAMPLE_ROWS / 2);
                if (range == null) {
                    return new CostEstimate(
                            0,
                            0,
                            0,
                            0,
                            0,
                            0,
                            List.of(),
                            0,
                            100,
                            -1,
                            List.of(),
                            List.of(new KeyRange(null, null, 0)),
                            connections(prepared, 1),
                            RUNNER_CONNECTIONS,
                            0);
                }
                long written = prepared.plan().unjournaled().writer().write(c, range);
                KeyRange second = next(c, prepared, range.hi(), SAMPLE_ROWS);
                if (second != null) {
                    // The measured sample: the second chunk (a table of one chunk has only the first to tell).
                    start = timeouts.apply(c);
                    started = System.nanoTime();
                    written = prepared.plan().unjournaled().writer().write(c, second);
                    range = second;
                }
                nanos = System.nanoTime() - started;
                wal = ChunkTimeouts.walSince(c, start.walPosition());
                sampleRows = range.rows();
                sampleWritten = written;
            } finally {
                c.rollback();
            }
        }
        try (Connection c = dataSource.getConnection()) {
            return report(c, prepared, sampleRows, sampleWritten, wal, nanos, hotShare, ranges(c, prepared));
        }
    }

    /**
     * The share of the table's past updates that were HOT, or -1 when PostgreSQL counted too few to say: fewer than a
     * few plans' rolled-back samples would add.
     */
    private static double pastHotShare(Connection c, String table) throws SQLException {
        return one(
                c,
                "SELECT coalesce((SELECT CASE WHEN n_tup_upd < " + MIN_PAST_UPDATES + " THEN -1"
                        + " ELSE n_tup_hot_upd::float8 / n_tup_upd END FROM pg_stat_user_tables WHERE relid = to_regclass(?)), -1)",
                table);
    }

    /**
     * The key ranges a run cuts the table into for its {@code parallel} partitions, as the runner cuts them (from a
     * sample of the key's index); the whole table for one.
     */
    private static List<KeyRange> ranges(Connection c, Prepared prepared) throws SQLException {
        int parallel = prepared.spec().parallel();
        KeyRange all = new KeyRange(null, null, 0);
        if (parallel <= 1) {
            return List.of(all);
        }
        KeySplits splits = new KeySplits(prepared.keyset());
        List<Key> cuts;
        if (prepared.source() == null) {
            cuts = splits.cuts(c, List.of(all), parallel).get(0);
        } else {
            try (Connection source = prepared.source().getConnection()) {
                cuts = splits.cuts(source, List.of(all), parallel).get(0);
            }
        }
        long each = prepared.estimatedRows() / (cuts.size() + 1);
        List<KeyRange> ranges = new ArrayList<>();
        Key lo = null;
        for (Key cut : cuts) {
            ranges.add(new KeyRange(lo, cut, each));
            lo = cut;
        }
        ranges.add(new KeyRange(lo, null, each));
        return ranges;
    }

    /**
     * The connections to the target database a run holds at most: one per partition while its chunk runs (two with
     * one partition in Java mode, which reads the next chunk ahead), and the runner's own.
     */
    private static int connections(Prepared prepared, int partitions) {
        boolean readsAhead = partitions == 1 && prepared.spec().mode() == JobSpec.Mode.JAVA;
        return partitions * (readsAhead ? 2 : 1) + RUNNER_CONNECTIONS;
    }

    /** The next range, found where the table is: in the target, or in the source database of a copy. */
    private static KeyRange next(Connection c, Prepared prepared, Key after, int rows) throws SQLException {
        if (prepared.source() == null) {
            return prepared.chunker().next(c, after, rows);
        }
        try (Connection source = prepared.source().getConnection()) {
            return prepared.chunker().next(source, after, rows);
        }
    }

    /** The run from the sample: WAL per row written, times the rows the filter matches; time per key, times the keys. */
    private static CostEstimate report(
            Connection c,
            Prepared prepared,
            long sampleRows,
            long sampleWritten,
            long wal,
            long nanos,
            double hotShare,
            List<KeyRange> ranges)
            throws SQLException {
        JobSpec spec = prepared.spec();
        double walPerRow = (double) wal / Math.max(1, sampleWritten);
        double secondsPerRow = nanos / 1e9 / sampleRows;
        long rows = Math.max(prepared.matchingRows(), 0);
        double walBytes = walPerRow * rows;
        double seconds = secondsPerRow * Math.max(prepared.estimatedRows(), rows);
        long rate = spec.throttle().rowsPerSecond();
        if (rate > 0) {
            seconds = Math.max(seconds, (double) rows / rate);
        }
        long walRate = spec.throttle().walBytesPerSecond().bytes();
        if (walRate > 0) {
            seconds = Math.max(seconds, walBytes / walRate);
        }
        String table = prepared.written();
        List<String> indexed = indexedTargets(c, table, prepared.targets());
        int indexes = (int) one(c, "SELECT count(*) FROM pg_index WHERE indrelid = to_regclass(?)", table);
        int fillfactor = (int) one(
                c,
                "SELECT coalesce((SELECT substring(o FROM 'fillfactor=(\\d+)')::int FROM"
                        + " unnest((SELECT reloptions FROM pg_class WHERE oid = to_regclass(?))) o WHERE o LIKE 'fillfactor=%'),"
                        + " 100)",
                table);
        List<String> advice = new ArrayList<>();
        if (!indexed.isEmpty()) {
            advice.add("an index reads " + String.join(", ", indexed) + ": every update writes all " + indexes
                    + " index(es) and is never HOT; create that index after the backfill if you can");
        } else if (fillfactor == 100 && hotShare >= 0 && hotShare < 0.5) {
            advice.add("fillfactor 100 and only " + Math.round(hotShare * 100) + "% of past updates were HOT: most"
                    + " updates will not find room in their page; a lower fillfactor (ALTER TABLE ... SET"
                    + " (fillfactor = 90)) helps future rewrites");
        }
        if (seconds > DAY_SECONDS) {
            advice.add(String.format(
                    Locale.ROOT,
                    "at this throttle the run takes %.1f days; raise"
                            + " throttle.rows-per-second or use parallel if the database has room",
                    seconds / DAY_SECONDS));
        }
        return new CostEstimate(
                sampleRows,
                walPerRow,
                secondsPerRow,
                rows,
                walBytes,
                seconds,
                indexed,
                indexes,
                fillfactor,
                hotShare,
                advice,
                ranges,
                connections(prepared, ranges.size()),
                RUNNER_CONNECTIONS,
                prepared.source() == null ? 0 : ranges.size());
    }

    /** The written columns that an index (its key, its INCLUDE columns, an expression or a predicate) reads. */
    private static List<String> indexedTargets(Connection c, String table, List<Column> targets) throws SQLException {
        List<String> out = new ArrayList<>();
        String sql = "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
                + " WHERE i.indrelid = to_regclass(?) AND a.attname = ? AND (a.attnum = ANY (i.indkey::int2[])"
                + " OR pg_get_indexdef(i.indexrelid) ~ ('\\m' || a.attname || '\\M')))";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (Column t : targets) {
                ps.setString(1, table);
                ps.setString(2, t.name());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && rs.getBoolean(1)) {
                        out.add(t.name());
                    }
                }
            }
        }
        return out;
    }

    private static double one(Connection c, String sql, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getDouble(1);
            }
        }
    }
}
