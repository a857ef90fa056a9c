package dev.sluice.engine.chunk;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import dev.sluice.engine.KeyRange;
import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Keyset;

/**
 * In-place mode: one {@code UPDATE t SET col = (expr), ... WHERE key in (lo, hi] [AND (where)]} per chunk, so
 * the work stays in the database and set-based.
 */
public final class InPlaceWriter implements ChunkWriter {

    private final RangeStatement update;
    private final boolean journaled;
    // Before PostgreSQL 18: the journaled write that reads its pre-images unlocked (null otherwise); whether the
    // next attempt of this thread's chunk (a chunk is retried on its own thread, its partition's) takes the locked
    // form, because rows were not written as read; and how many chunks found so, after which every chunk takes it
    // (a trigger of the table's that skips rows would make each chunk run twice).
    private static final int MISMATCHES_BEFORE_LOCKING_ALWAYS = 3;
    private final RangeStatement optimistic;
    private final ThreadLocal<Boolean> lockNext = ThreadLocal.withInitial(() -> false);
    private final AtomicInteger mismatches = new AtomicInteger();

    /**
     * @param set     target column to SQL expression, columns already resolved against the catalog
     * @param where   an optional filter, or null
     * @param journal where the pre-images go, written by the same statement; null without {@code undo}
     */
    public InPlaceWriter(Keyset keyset, Map<Column, String> set, String where, Journal journal) {
        List<String> parts = new ArrayList<>();
        set.forEach((col, expr) -> parts.add(col.quoted() + " = (" + expr + ")"));
        String table = keyset.table().qualifiedName();
        String filter = where == null ? "" : " AND (" + where + ")";
        List<Column> targets = List.copyOf(set.keySet());
        this.journaled = journal != null;
        RangeStatement unlocked = null;
        if (journal == null) {
            String head = "UPDATE " + table + " SET " + String.join(", ", parts) + " WHERE ";
            this.update = new RangeStatement(keyset, range -> head + range + filter);
        } else if (journal.returningOld()) {
            String head = "WITH w AS (UPDATE " + table + " SET " + String.join(", ", parts) + " WHERE ";
            String tail = filter + " RETURNING "
                    + Journal.row(
                            Journal.texts("NEW.", keyset.columns()),
                            Journal.texts("OLD.", targets),
                            "true",
                            Journal.hash("NEW.", targets))
                    + ") "
                    + journal.updatesFrom("w", keyset.width(), targets.size());
            this.update = new RangeStatement(keyset, range -> head + range + tail);
        } else {
            // Before PostgreSQL 18 the UPDATE cannot return what it overwrote, so the range's rows are read first in
            // the same statement (o, under aliases that no expression can mean) and the UPDATE joined to them by
            // their row version: its partition, its ctid (a TID scan where the planner takes it: no second walk of
            // the key's index) and its xmin. Not locked: a lock writes a WAL record per row and doubles the chunk's
            // cost. A row another session changed between the read and the UPDATE has a new version, which the
            // UPDATE's recheck does not match: it is neither written nor journaled, the chunk sees fewer rows written
            // than read, rolls back and runs again with the rows read FOR UPDATE (the locked form), whose pre-images no
            // other session can change. The range again in the UPDATE, so that however the planner joins o (by TID, or
            // hashing o over the
            // range's rows), it reads no more than the range.
            unlocked = new RangeStatement(
                    keyset,
                    range -> preRead(table, keyset, targets, range + filter, false)
                            + " UPDATE " + table + " SET " + String.join(", ", parts) + " FROM o WHERE " + table
                            + ".tableoid = o.sluice_r AND " + table + ".ctid = o.sluice_t AND " + table
                            + ".xmin = o.sluice_x AND " + range
                            + returning(keyset, table, targets)
                            + ", j AS (" + journal.updatesFrom("w", keyset.width(), targets.size()) + ")"
                            + " SELECT (SELECT count(*) FROM o), (SELECT coalesce(sum(rows), 0) FROM j)",
                    2);
            // The locked form: joined by key (a locked row's ctid may be a newer version than the statement sees),
            // the range in o and again in the UPDATE (unqualified: o's columns are all sluice_ aliases), so that the
            // UPDATE cannot read the whole table to find o's rows.
            List<String> match = new ArrayList<>();
            for (int i = 0; i < keyset.width(); i++) {
                Column k = keyset.columns().get(i);
                match.add(table + "." + k.quoted() + " = o.sluice_k" + i);
            }
            this.update = new RangeStatement(
                    keyset,
                    range -> preRead(table, keyset, targets, range + filter, true) + " UPDATE " + table + " SET "
                            + String.join(", ", parts) + " FROM o WHERE " + String.join(" AND ", match) + " AND "
                            + range + returning(keyset, table, targets) + " "
                            + journal.updatesFrom("w", keyset.width(), targets.size()),
                    2);
        }
        this.optimistic = unlocked;
    }

    /** {@code WITH o AS (SELECT ...), w AS (}: the range's rows, their versions and pre-images, as text. */
    private static String preRead(String table, Keyset keyset, List<Column> targets, String where, boolean lock) {
        // A row version is its partition's (tableoid: a partitioned table's partitions number their rows alike),
        // its place there (ctid) and the transaction that wrote it (xmin).
        List<String> old = new ArrayList<>(List.of("tableoid AS sluice_r", "ctid AS sluice_t", "xmin AS sluice_x"));
        for (int i = 0; i < keyset.width(); i++) {
            old.add(keyset.columns().get(i).quoted() + " AS sluice_k" + i);
        }
        for (int i = 0; i < targets.size(); i++) {
            old.add(targets.get(i).quoted() + "::text AS sluice_b" + i);
        }
        return "WITH o AS (SELECT " + String.join(", ", old) + " FROM " + table + " WHERE " + where
                + (lock ? " FOR UPDATE" : "") + "), w AS (";
    }

    /** {@code RETURNING ...)}: the journal's row of each written row, ending the CTE {@code w}. */
    private static String returning(Keyset keyset, String table, List<Column> targets) {
        List<String> before = new ArrayList<>();
        for (int i = 0; i < targets.size(); i++) {
            before.add("o.sluice_b" + i);
        }
        return " RETURNING "
                + Journal.row(
                        Journal.texts(table + ".", keyset.columns()),
                        before,
                        "true",
                        Journal.hash(table + ".", targets))
                + ")";
    }

    @Override
    public long write(Connection c, KeyRange range) throws SQLException {
        return write(c, range, null);
    }

    @Override
    public long write(Connection c, KeyRange range, ChunkTimeouts.WalSince wal) throws SQLException {
        if (!journaled) {
            return update.execute(c, range, wal);
        }
        if (optimistic == null || lockNext.get() || mismatches.get() >= MISMATCHES_BEFORE_LOCKING_ALWAYS) {
            lockNext.set(false);
            return update.count(c, range, wal);
        }
        long[] readWritten = optimistic.counts(c, range, wal);
        if (readWritten[1] != readWritten[0]) {
            // Some rows were not written as they were read: another session changed them between the read and the
            // write (their pre-images would be stale), or a trigger skipped them. The chunk rolls back (the retry of
            // a transient error) and runs again, locking its rows first.
            lockNext.set(true);
            mismatches.incrementAndGet();
            throw new SQLException(
                    Math.abs(readWritten[0] - readWritten[1])
                            + " of the chunk's rows were not written as they were read (another session changed them"
                            + " meanwhile, or a trigger skipped them); it runs again, locking its rows first",
                    "40001");
        }
        return readWritten[1];
    }

    @Override
    public String sql(int shape) {
        return (optimistic == null ? update : optimistic).sql(shape);
    }
}
