package dev.sluice.engine.preflight;

import java.math.BigDecimal;
import java.math.MathContext;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import javax.sql.DataSource;

import dev.sluice.engine.chunk.ChunkTimeouts;
import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Key;
import dev.sluice.engine.keyset.KeyRange;
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
public final class CostEstimate {

    // Large enough that a chunk's fixed costs (commit, range finding) weigh little per row, small enough to be quick.
    static final int SAMPLE_ROWS = 2000;
    private static final long DAY_SECONDS = 86_400;
    // PostgreSQL counts the updates of a rolled-back transaction too, so every plan's sample (and a dry run's chunk)
    // adds up to SAMPLE_ROWS * 1.5 to the table's past updates. Evidence that the application updates the table is
    // many times what a few of those add up to; below it, the past HOT share says nothing and no fillfactor is advised.
    static final long MIN_PAST_UPDATES = 10L * SAMPLE_ROWS;
    // Besides a connection per partition while its chunk runs: the runner's lock, its throttle record, the mailbox.
    static final int RUNNER_CONNECTIONS = 3;

    /**
     * @param sampleRows       rows the sample chunk covered (0: an empty table, nothing to estimate)
     * @param walPerRow        WAL bytes per row the sample wrote
     * @param secondsPerRow    wall time per row of the sample, finding and writing included
     * @param rows             rows the run will write (the planner's estimate of rows matching the spec's filter)
     * @param seconds          the run's duration: the sample's pace, or the throttle's where it is slower
     * @param indexedTargets   written columns that an index reads (their updates cannot be HOT)
     * @param indexes          indexes on the written table: entries each non-HOT update writes
     * @param fillfactor       the written table's fillfactor (100 when not set)
     * @param hotShare         the share of the table's past updates that were HOT, or -1 when it had too few to say
     *                         ({@link #MIN_PAST_UPDATES}, counted before this plan's sample)
     * @param recommendations  one line each, where something is costly
     * @param ranges           the key ranges {@code parallel} cuts the table into, in key order (one for parallel 1)
     * @param connections      the connections to the target database the run holds at most
     * @param sourceConnections to a copy's source database, or 0 when the table is in the target
     */
    public record Report(long sampleRows, double walPerRow, double secondsPerRow, long rows, double walBytes,
                         double seconds, List<String> indexedTargets, int indexes, int fillfactor, double hotShare,
                         List<String> recommendations, List<KeyRange> ranges, int connections, int sourceConnections) {
    }

    private CostEstimate() {
    }

    public static Report of(DataSource dataSource, Prepared prepared) throws SQLException {
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
                ChunkTimeouts timeouts = new ChunkTimeouts(spec.timeouts().lock(), spec.timeouts().statement());
                ChunkTimeouts.Start start = timeouts.apply(c);
                long started = System.nanoTime();
                KeyRange range = next(c, prepared, null, SAMPLE_ROWS / 2);
                if (range == null) {
                    return new Report(0, 0, 0, 0, 0, 0, List.of(), 0, 100, -1, List.of(),
                            List.of(new KeyRange(null, null, 0)), connections(prepared, 1), 0);
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
        return one(c, "SELECT coalesce((SELECT CASE WHEN n_tup_upd < " + MIN_PAST_UPDATES + " THEN -1"
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
    private static Report report(Connection c, Prepared prepared, long sampleRows, long sampleWritten, long wal,
                                 long nanos, double hotShare, List<KeyRange> ranges) throws SQLException {
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
        int fillfactor = (int) one(c, "SELECT coalesce((SELECT substring(o FROM 'fillfactor=(\\d+)')::int FROM"
                + " unnest((SELECT reloptions FROM pg_class WHERE oid = to_regclass(?))) o WHERE o LIKE 'fillfactor=%'),"
                + " 100)", table);
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
            advice.add(String.format(Locale.ROOT, "at this throttle the run takes %.1f days; raise"
                    + " throttle.rows-per-second or use parallel if the database has room", seconds / DAY_SECONDS));
        }
        return new Report(sampleRows, walPerRow, secondsPerRow, rows, walBytes, seconds, indexed, indexes, fillfactor,
                hotShare, advice, ranges, connections(prepared, ranges.size()),
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

    /** The report in the lines {@code plan} prints. */
    public static List<String> lines(Report r) {
        List<String> out = new ArrayList<>();
        if (r.sampleRows() == 0) {
            out.add("the table has no rows: nothing to write");
            return out;
        }
        out.add(String.format(Locale.ROOT, "sample: %,d rows written and rolled back: %s of WAL a row, %s ms a row",
                r.sampleRows(), size(r.walPerRow()), millis(r.secondsPerRow() * 1000)));
        out.add(String.format(Locale.ROOT, "whole run: ~%,d rows, ~%s of WAL, ~%s at the configured throttle",
                r.rows(), size(r.walBytes()), duration(r.seconds())));
        out.add(r.indexedTargets().isEmpty()
                ? String.format(Locale.ROOT, "updates can be HOT (no index reads a written column; fillfactor %d%s)",
                        r.fillfactor(), r.hotShare() < 0 ? "" : String.format(Locale.ROOT, ", %.0f%% of past updates were"
                                + " HOT", r.hotShare() * 100))
                : String.format(Locale.ROOT, "updates cannot be HOT: %d index entries written per row", r.indexes()));
        out.add(String.format(Locale.ROOT, "dead row versions left for vacuum: ~%,d", r.rows()));
        out.add(r.ranges().size() == 1 ? "parallel: 1 (one key range, the whole table)"
                : String.format(Locale.ROOT, "parallel: %d ranges of about equal rows, worked at once, each a partition"
                + " with its own checkpoint:", r.ranges().size()));
        if (r.ranges().size() > 1) {
            for (int i = 0; i < r.ranges().size(); i++) {
                KeyRange range = r.ranges().get(i);
                out.add(String.format(Locale.ROOT, "  range %d: keys (%s, %s]  ~%,d rows", i + 1,
                        range.lo() == null ? "start" : String.join(", ", range.lo().values()),
                        range.hi() == null ? "end" : String.join(", ", range.hi().values()), range.rows()));
            }
        }
        int chunks = r.connections() - RUNNER_CONNECTIONS;
        out.add(String.format(Locale.ROOT, "connections: up to %d to the target database (%s, the runner's lock, its"
                + " throttle record and the operators' mailbox)%s", r.connections(), r.ranges().size() > 1
                ? "one per partition while its chunk runs" : chunks > 1 ? "two while a chunk runs: it reads the next one"
                + " ahead" : "one while a chunk runs", r.sourceConnections() == 0 ? ""
                : String.format(Locale.ROOT, ", and %d to the source database", r.sourceConnections())));
        r.recommendations().forEach(a -> out.add("recommendation: " + a));
        return out;
    }

    /** A size in the unit that reads best: whole bytes below a kilobyte, one decimal above. */
    private static String size(double bytes) {
        String[] units = {"B", "kB", "MB", "GB", "TB"};
        int u = 0;
        while (bytes >= 1024 && u < units.length - 1) {
            bytes /= 1024;
            u++;
        }
        return u == 0 ? String.format(Locale.ROOT, "%.0f B", bytes) : String.format(Locale.ROOT, "%.1f %s", bytes, units[u]);
    }

    /** Milliseconds to two significant digits (0.12, 1.2, 12), never a long tail of zeros. */
    private static String millis(double ms) {
        if (ms >= 10) {
            return String.format(Locale.ROOT, "%.0f", ms);
        }
        if (ms <= 0) {
            return "0";
        }
        return new BigDecimal(ms).round(new MathContext(2)).stripTrailingZeros().toPlainString();
    }

    private static String duration(double seconds) {
        Duration d = Duration.ofMillis(Math.round(seconds * 1000));
        return d.toHours() > 0 ? d.toHours() + "h" + String.format(Locale.ROOT, "%02dm", d.toMinutesPart())
                : d.toMinutes() > 0 ? d.toMinutes() + "m" + String.format(Locale.ROOT, "%02ds", d.toSecondsPart())
                : String.format(Locale.ROOT, "%.1fs", seconds);
    }
}
