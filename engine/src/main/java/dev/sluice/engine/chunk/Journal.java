package dev.sluice.engine.chunk;

import java.util.List;
import java.util.stream.Collectors;

import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Sql;

/**
 * Where a chunk writes its undo journal entry, in the same statement (or transaction) as its write: one row per
 * chunk in {@code <schema>.undo_journal}, holding, for exactly the rows the chunk wrote, their keys, the pre-images
 * of the written columns (as text, which every type reads back exactly), whether the row existed (a copy's insert
 * did not), and a 64-bit hash of what Sluice wrote, by which a rollback tells a row changed since.
 *
 * @param returningOld whether the server has {@code RETURNING OLD} (PostgreSQL 18): the write returns its own
 *                     pre-images; older servers read them first, locked, in the same statement
 */
public record Journal(String schema, String job, boolean returningOld) {

    public Journal {
        if (!job.matches("[a-z0-9_-]+")) {
            throw new IllegalArgumentException("job names are [a-z0-9_-]+: " + job);
        }
    }

    /** The journal table, qualified and quoted. */
    public String table() {
        return Sql.quote(schema) + ".undo_journal";
    }

    /**
     * The INSERT that takes the rows of CTE {@code w} (columns {@code k}: the key as text[], {@code b}: the
     * pre-images as text[], {@code e}: whether the row existed, {@code h}: the hash of what was written) into one
     * journal entry, and returns how many rows it holds (no row when the chunk wrote none).
     */
    String insertFrom(String w) {
        // The job name is [a-z0-9_-]+ (checked above): a literal nothing can end early.
        // The session's TimeZone and IntervalStyle shape the text of timestamptz and interval values, and so the
        // hash: a rollback sets them back to these before it compares.
        return "INSERT INTO " + table() + " (job, keys, before, existed, after_hash, time_zone, interval_style)"
                + " SELECT '" + job + "', array_agg(k), array_agg(b), array_agg(e), array_agg(h),"
                + " current_setting('TimeZone'), current_setting('IntervalStyle') FROM " + w + " HAVING count(*) > 0"
                + " RETURNING cardinality(after_hash)";
    }

    /** {@code ARRAY[p.c1::text, ...]}: columns as a text array, as the journal keeps keys and pre-images. */
    public static String texts(String prefix, List<Column> columns) {
        return columns.stream().map(c -> prefix + c.quoted() + "::text").collect(Collectors.joining(", ", "ARRAY[", "]::text[]"));
    }

    /** The hash of what the columns hold, as written and as checked at rollback: the same expression both times. */
    public static String hash(String prefix, List<Column> columns) {
        return "hashtextextended(ROW(" + columns.stream().map(c -> prefix + c.quoted()).collect(Collectors.joining(", "))
                + ")::text, 0)";
    }
}
