package dev.sluice.engine.undo;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import dev.sluice.engine.Key;
import dev.sluice.engine.KeyRange;
import dev.sluice.engine.chunk.ChunkLedger;
import dev.sluice.engine.chunk.ChunkLoop;
import dev.sluice.engine.chunk.ChunkWriter;
import dev.sluice.engine.chunk.Journal;
import dev.sluice.engine.chunk.WritePlan;
import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Table;

/**
 * Rollback: the journal's entries, newest first, each restored in one transaction with the rollback's checkpoint
 * (the chunk loop's source, writer and ledger in one). An entry's rows are locked, and a row is restored only if it
 * still holds what Sluice wrote (its hash as journaled); a row changed since by someone else is left alone and
 * reported, unless forced. Restored rows leave the entry; the entry goes when none is left, and keeps only the rows
 * changed since otherwise, so that {@code rollback --force} can restore them later. A copy's inserted rows are
 * deleted, its replaced rows restored.
 */
public final class Restorer implements ChunkLoop.Source, ChunkWriter, ChunkLedger {

    /** Rows changed since, kept per rollback in its notes: the count and the first few, to report. */
    static final String CONFLICTS = "rollback.conflicts";
    /** Journaled rows whose row was deleted since: nothing to restore them into (a copy's inserted row: gone). */
    static final String GONE = "rollback.gone";

    static final String SAMPLES = "rollback.samples";
    // Enough to see what changed, few enough to print.
    static final int MAX_SAMPLES = 10;
    /** Rows restored that the sync trigger had written (rows the application wrote while it was installed). */
    static final String BY_TRIGGER = "rollback.byTrigger";
    // At most this many entries a chunk: the sync trigger's are of one row each.
    private static final int MAX_ENTRIES = 1000;

    private final Journal journal;
    private final Table table;
    private final List<Column> key;
    private final List<Column> columns;
    private final List<Column> hashed;
    private final boolean force;
    private final String rows;
    private final String picked;
    private final List<String> found = new ArrayList<>();
    private long conflicts;
    private long gone;
    private long byTrigger;

    /** @param force whether rows changed since are restored too */
    public Restorer(WritePlan plan, boolean force) {
        this.journal = plan.journal();
        if (plan instanceof WritePlan.Copy copy) {
            this.table = copy.target();
            this.key = copy.conflict();
            this.columns = copy.targets();
            this.hashed = List.copyOf(copy.target().columns().values()); // as chunk.CopyJournal hashes
        } else {
            this.table = plan.keyset().table();
            this.key = plan.keyset().columns();
            this.columns = plan.targets();
            this.hashed = columns;
        }
        this.force = force;
        // One entry, a row per journaled row: each array (stored column by column, keys[column][row]) is sliced
        // and unnested once, never subscripted per row (an out-of-line array would be fetched whole every time).
        List<String> arrays = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < key.size(); i++) {
            arrays.add("j.keys[" + (i + 1) + ":" + (i + 1) + "]");
            names.add("k" + i);
        }
        for (int i = 0; i < columns.size(); i++) {
            arrays.add("j.before[" + (i + 1) + ":" + (i + 1) + "]");
            names.add("b" + i);
        }
        String fields = String.join(", ", names);
        // existed is empty when every row existed: unnest pads it with NULLs.
        this.rows = "SELECT u.n, " + fields + ", coalesce(u.existed, true) AS e, u.h FROM " + journal.table() + " j,"
                + " unnest(" + String.join(", ", arrays) + ", j.existed, j.after_hash) WITH ORDINALITY AS u(" + fields
                + ", existed, h, n) WHERE j.job = ? AND j.seq = ?";
        // Some of an entry's rows, picked by a mask of the entry's length unnested beside its arrays (a row of each,
        // zipped): never joined to a list of their numbers, which the planner, estimating a handful of rows for the
        // unnest, may join in a nested loop that compares every pair (tens of seconds for an entry of 35,000 rows).
        this.picked = "SELECT u.n, " + fields + ", coalesce(u.existed, true) AS e, u.h FROM " + journal.table()
                + " j, unnest(" + String.join(", ", arrays) + ", j.existed, j.after_hash, ?::boolean[]) WITH"
                + " ORDINALITY AS u(" + fields + ", existed, h, pick, n) WHERE j.job = ? AND j.seq = ? AND u.pick";
    }

    /**
     * The newest entries below {@code after} (an entry's sequence number) holding about {@code rows} journaled rows
     * together, at least one; null when none is left. The range runs backwards, as the entries are restored: its
     * {@code lo} is the newest entry, its {@code hi} the oldest, the rollback's checkpoint once they are restored. The
     * sync trigger journals a row at a time: many such entries make one chunk.
     */
    @Override
    public KeyRange next(Connection c, Key after, int rows) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT seq, rows FROM " + journal.table()
                + " WHERE job = ? AND seq < ? ORDER BY seq DESC LIMIT " + MAX_ENTRIES)) {
            ps.setString(1, journal.job());
            ps.setLong(
                    2,
                    after == null
                            ? Long.MAX_VALUE
                            : Long.parseLong(after.values().get(0)));
            try (ResultSet rs = ps.executeQuery()) {
                String newest = null;
                String oldest = null;
                long total = 0;
                while (rs.next()) {
                    long entryRows = rs.getLong(2);
                    if (newest != null && total + entryRows > rows) {
                        break;
                    }
                    if (newest == null) {
                        newest = rs.getString(1);
                    }
                    oldest = rs.getString(1);
                    total += entryRows;
                }
                return newest == null ? null : new KeyRange(new Key(List.of(newest)), new Key(List.of(oldest)), total);
            }
        }
    }

    /** An entry's keys are joined to the table, wherever they lie: a nested loop through the key's index. */
    @Override
    public boolean joinsKeys() {
        return true;
    }

    /**
     * Restores the entries of {@code range} (see {@link #next}), newest first; returns the rows restored (or
     * deleted, a copy's inserts).
     */
    @Override
    public long write(Connection c, KeyRange range) throws SQLException {
        found.clear();
        conflicts = 0;
        gone = 0;
        byTrigger = 0;
        long newest = Long.parseLong(
                (range.lo() == null ? range.hi() : range.lo()).values().get(0));
        long oldest = Long.parseLong(range.hi().values().get(0));
        List<long[]> entries = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT seq, rows, by_trigger FROM " + journal.table()
                + " WHERE job = ? AND seq BETWEEN ? AND ? ORDER BY seq DESC")) {
            ps.setString(1, journal.job());
            ps.setLong(2, oldest);
            ps.setLong(3, newest);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    entries.add(new long[] {rs.getLong(1), rs.getLong(2), rs.getBoolean(3) ? 1 : 0});
                }
            }
        }
        long restored = 0;
        for (long[] entry : entries) {
            long done = restoreEntry(c, entry[0], entry[1]);
            restored += done;
            if (entry[2] == 1) {
                byTrigger += done;
            }
        }
        return restored;
    }

    /** Restores one entry: its rows that still hold what was written; returns how many. */
    private long restoreEntry(Connection c, long seq, long entryRows) throws SQLException {
        // The text of timestamptz and interval values, and so the hash, follows these settings: as when written.
        try (PreparedStatement ps = c.prepareStatement("SELECT set_config('TimeZone', time_zone, true),"
                + " set_config('IntervalStyle', interval_style, true) FROM " + journal.table()
                + " WHERE job = ? AND seq = ?")) {
            bind(ps, seq);
            ps.executeQuery().close();
        }
        List<Integer> restore = new ArrayList<>();
        List<Integer> changed = new ArrayList<>();
        // What a row holds now and what would be restored are read as text only for rows changed since (to report).
        String same = Journal.hash("t.", hashed) + " = e.h";
        try (PreparedStatement ps = c.prepareStatement("WITH e AS (" + rows + ") SELECT e.n, " + keyText("t.")
                + ", CASE WHEN " + same + " THEN NULL ELSE ROW(" + list("t.") + ")::text END, CASE WHEN " + same
                + " THEN NULL ELSE " + (columns.isEmpty() ? "'{}'" : "ARRAY[" + before() + "]::text") + " END, " + same
                + " FROM e JOIN " + table.qualifiedName() + " t ON " + match() + " FOR UPDATE OF t")) {
            bind(ps, seq);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    int n = rs.getInt(1);
                    if (force || rs.getBoolean(key.size() + 4)) {
                        restore.add(n);
                    } else {
                        changed.add(n);
                        if (found.size() < MAX_SAMPLES) {
                            List<String> k = new ArrayList<>();
                            for (int i = 0; i < key.size(); i++) {
                                k.add(rs.getString(2 + i));
                            }
                            found.add("key " + String.join(", ", k) + ": now " + rs.getString(key.size() + 2)
                                    + ", would restore " + rs.getString(key.size() + 3));
                        }
                    }
                }
            }
        }
        long restored = restore.isEmpty() ? 0 : restore(c, seq, restore);
        keepOnly(c, seq, changed);
        conflicts += changed.size();
        gone += Math.max(0, entryRows - restore.size() - changed.size());
        return restored;
    }

    private long restore(Connection c, long seq, List<Integer> which) throws SQLException {
        Array pick = mask(c, which);
        String sets = columns.isEmpty()
                ? null
                : IntStream.range(0, columns.size())
                        .mapToObj(i -> columns.get(i).quoted() + " = CAST(e.b" + i + " AS "
                                + columns.get(i).type() + ")")
                        .collect(Collectors.joining(", "));
        long done = 0;
        if (sets != null) {
            try (PreparedStatement ps = c.prepareStatement("WITH e AS (" + picked + ") UPDATE " + table.qualifiedName()
                    + " t SET " + sets + " FROM e WHERE " + match() + " AND e.e")) {
                bindPicked(ps, pick, seq);
                done += ps.executeLargeUpdate();
            }
        }
        try (PreparedStatement ps = c.prepareStatement("WITH e AS (" + picked + ") DELETE FROM " + table.qualifiedName()
                + " t USING e WHERE " + match() + " AND NOT e.e")) {
            bindPicked(ps, pick, seq);
            done += ps.executeLargeUpdate();
        }
        return done;
    }

    /** The mask picking rows {@code which} (numbered from 1) of an entry: true at their places, no further. */
    private static Array mask(Connection c, List<Integer> which) throws SQLException {
        int length = which.stream().mapToInt(Integer::intValue).max().orElse(0);
        Boolean[] mask = new Boolean[length];
        java.util.Arrays.fill(mask, Boolean.FALSE);
        for (int n : which) {
            mask[n - 1] = Boolean.TRUE;
        }
        return c.createArrayOf("bool", mask);
    }

    private void bindPicked(PreparedStatement ps, Array mask, long seq) throws SQLException {
        ps.setArray(1, mask);
        ps.setString(2, journal.job());
        ps.setLong(3, seq);
    }

    /** The entry keeps the rows changed since (for a later {@code --force}), or goes. */
    private void keepOnly(Connection c, long seq, List<Integer> changed) throws SQLException {
        if (changed.isEmpty()) {
            try (PreparedStatement ps =
                    c.prepareStatement("DELETE FROM " + journal.table() + " WHERE job = ? AND seq = ?")) {
                bind(ps, seq);
                ps.executeUpdate();
            }
            return;
        }
        String keys = IntStream.range(0, key.size())
                .mapToObj(i -> "array_agg(e.k" + i + " ORDER BY e.n)")
                .collect(Collectors.joining(", ", "ARRAY[", "]"));
        String before = columns.isEmpty()
                ? "'{}'::text[]"
                : IntStream.range(0, columns.size())
                        .mapToObj(i -> "array_agg(e.b" + i + " ORDER BY e.n)")
                        .collect(Collectors.joining(", ", "ARRAY[", "]"));
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + journal.table() + " u SET keys = x.keys, before ="
                + " x.before, existed = x.existed, after_hash = x.after_hash, rows = x.rows FROM (SELECT " + keys
                + " AS keys, " + before
                + " AS before, array_agg(e.e ORDER BY e.n) AS existed, array_agg(e.h ORDER BY e.n)"
                + " AS after_hash, count(*) AS rows FROM (" + picked + ") e) x WHERE u.job = ? AND u.seq = ?")) {
            bindPicked(ps, mask(c, changed), seq);
            ps.setString(4, journal.job());
            ps.setLong(5, seq);
            ps.executeUpdate();
        }
    }

    /** Counts the rows changed since, and keeps the first few, with the chunk's checkpoint. */
    @Override
    public void apply(Connection c, KeyRange range, Notes notes) {
        long total = (notes.get(CONFLICTS) == null ? 0 : Long.parseLong(notes.get(CONFLICTS))) + conflicts;
        List<String> samples = new ArrayList<>(samples(notes));
        for (String s : found) {
            if (samples.size() < MAX_SAMPLES) {
                samples.add(s);
            }
        }
        notes.put(CONFLICTS, String.valueOf(total));
        notes.put(GONE, String.valueOf(gone(notes::get) + gone));
        notes.put(BY_TRIGGER, String.valueOf(byTrigger(notes::get) + byTrigger));
        notes.put(SAMPLES, String.join("\n", samples));
    }

    /** The rows a rollback left because they changed since it was written, as its notes say. */
    public static long conflicts(Function<String, String> notes) {
        String n = notes.apply(CONFLICTS);
        return n == null ? 0 : Long.parseLong(n);
    }

    /** Journaled rows deleted since by others, which a rollback cannot restore, as its notes say. */
    /** Rows a rollback restored that the sync trigger had written, as its notes say. */
    public static long byTrigger(Function<String, String> notes) {
        String n = notes.apply(BY_TRIGGER);
        return n == null ? 0 : Long.parseLong(n);
    }

    public static long gone(Function<String, String> notes) {
        String n = notes.apply(GONE);
        return n == null ? 0 : Long.parseLong(n);
    }

    /** The first few of them: key, what the row holds now, what would be restored. */
    public static List<String> samples(Function<String, String> notes) {
        String s = notes.apply(SAMPLES);
        return s == null || s.isEmpty() ? List.of() : List.of(s.split("\n"));
    }

    private static List<String> samples(Notes notes) {
        return samples(notes::get);
    }

    @Override
    public String sql(int shape) {
        return "restore the newest journal entry of " + journal.job() + " into " + table.qualifiedName();
    }

    private void bind(PreparedStatement ps, long seq) throws SQLException {
        ps.setString(1, journal.job());
        ps.setLong(2, seq);
    }

    private String match() {
        return IntStream.range(0, key.size())
                .mapToObj(i -> "t." + key.get(i).quoted() + " = CAST(e.k" + i + " AS "
                        + key.get(i).castType() + ")")
                .collect(Collectors.joining(" AND "));
    }

    private String keyText(String prefix) {
        return key.stream().map(k -> prefix + k.quoted() + "::text").collect(Collectors.joining(", "));
    }

    private String list(String prefix) {
        return columns.stream().map(c -> prefix + c.quoted()).collect(Collectors.joining(", "));
    }

    private String before() {
        return IntStream.range(0, columns.size()).mapToObj(i -> "e.b" + i).collect(Collectors.joining(", "));
    }
}
