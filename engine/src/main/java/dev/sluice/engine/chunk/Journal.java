package dev.sluice.engine.chunk;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
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

    // Built-in types hashed by value, where equal values are the same value. Not numeric without a scale (1.5 =
    // 1.50), floats (-0 = 0), interval ('1 day' = '24 hours'), json (no equality) or anything else: those as text.
    private static final Set<String> BINARY = Set.of(
            "smallint",
            "integer",
            "bigint",
            "boolean",
            "date",
            "timestamp without time zone",
            "timestamp with time zone",
            "time without time zone",
            "uuid",
            "bytea",
            "oid",
            "jsonb");
    private static final Set<String> COLLATED = Set.of("text", "character varying", "bpchar");

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
     * The select list of one journaled row, as a write's {@code RETURNING} (or a CTE) gives it to
     * {@link #insertFrom}: the key's columns and the pre-images, each as text; whether the row existed; the hash.
     */
    public static String row(List<String> keyTexts, List<String> beforeTexts, String existed, String hash) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < keyTexts.size(); i++) {
            out.add(keyTexts.get(i) + " AS sluice_jk" + i);
        }
        for (int i = 0; i < beforeTexts.size(); i++) {
            out.add(beforeTexts.get(i) + " AS sluice_jb" + i);
        }
        out.add(existed + " AS sluice_je");
        out.add(hash + " AS sluice_jh");
        return String.join(", ", out);
    }

    /**
     * The INSERT that takes the rows of CTE {@code w} (selected by {@link #row}) into one journal entry, and returns
     * how many rows it holds (no row when the chunk wrote none). Keys and pre-images are stored column by column
     * ({@code keys[column][row]}): one aggregate per column, cheaper than an array per row. {@code existed} is empty
     * when every row existed (an update; a copy's inserts did not).
     */
    String insertFrom(String w, int keyColumns, int beforeColumns) {
        return insertFrom(w, keyColumns, beforeColumns, false);
    }

    /**
     * {@link #insertFrom(String, int, int)} for a write whose every row existed (an update: its {@code existed} is the
     * constant true), which stores {@code existed} empty without aggregating it: two aggregates fewer a chunk.
     */
    String updatesFrom(String w, int keyColumns, int beforeColumns) {
        return insertFrom(w, keyColumns, beforeColumns, true);
    }

    private String insertFrom(String w, int keyColumns, int beforeColumns, boolean updates) {
        // The job name is [a-z0-9_-]+ (checked above): a literal nothing can end early.
        // The session's TimeZone and IntervalStyle shape the text of timestamptz and interval values, and so the
        // hash of a column hashed as text: a rollback sets them back to these before it compares.
        return "INSERT INTO " + table() + " (job, keys, before, existed, after_hash, rows, time_zone, interval_style)"
                + " SELECT '" + job + "', " + columns("sluice_jk", keyColumns) + ", "
                + columns("sluice_jb", beforeColumns)
                + (updates
                        ? ", '{}'::boolean[]"
                        : ", CASE WHEN bool_and(sluice_je) THEN '{}'::boolean[] ELSE array_agg(sluice_je) END")
                + ", array_agg(sluice_jh), count(*),"
                + " current_setting('TimeZone'), current_setting('IntervalStyle') FROM " + w + " HAVING count(*) > 0"
                + " RETURNING rows";
    }

    private static String columns(String prefix, int count) {
        if (count == 0) {
            return "'{}'::text[]";
        }
        List<String> aggregates = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            aggregates.add("array_agg(" + prefix + i + ")");
        }
        return "ARRAY[" + String.join(", ", aggregates) + "]";
    }

    /** {@code p.c1::text, ...}: each column as text, as the journal keeps keys and pre-images. */
    public static List<String> texts(String prefix, List<Column> columns) {
        return columns.stream().map(c -> prefix + c.quoted() + "::text").toList();
    }

    /**
     * The 64-bit hash of what the columns hold, as written and as checked at rollback: the same expression both times.
     * Columns of types whose equality is their value's identity are hashed as they are (text-like ones in the "C"
     * collation, so that a case-insensitive collation cannot hide a change; numeric with a fixed scale); others as
     * their text, so that no change the type's equality cannot see ('1 day' to '24 hours') goes unnoticed.
     */
    public static String hash(String prefix, List<Column> columns) {
        return "hash_record_extended(ROW("
                + columns.stream().map(c -> hashed(prefix + c.quoted(), c)).collect(Collectors.joining(", ")) + "), 0)";
    }

    private static String hashed(String column, Column c) {
        if (COLLATED.contains(c.castType())) {
            return column + " COLLATE \"C\"";
        }
        boolean scaled = c.castType().equals("numeric") && c.type().matches("numeric\\(\\d+,\\d+\\)");
        // Text in "C" too: the text of an array or a domain keeps the collation of its elements.
        return BINARY.contains(c.castType()) || scaled ? column : "(" + column + "::text) COLLATE \"C\"";
    }
}
