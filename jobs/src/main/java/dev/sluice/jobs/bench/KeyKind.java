package dev.sluice.jobs.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The key the bench table is walked by ({@code bench --key}): what its rows are keyed on changes what a chunk costs
 * (a {@code bigint} is dense and sorts in the table's order; a {@code uuid} is random, so a chunk's rows lie on many
 * pages; a composite key over collated text compares through its collation, before the row-value comparison).
 */
enum KeyKind {
    BIGINT("bigint", "id bigint PRIMARY KEY", "g", List.of("id"), List.of("bigint"), List.of("0")),
    // Random keys (an md5 per row): the table's order is not the key's, as with uuid v4 keys.
    UUID(
            "uuid",
            "id uuid PRIMARY KEY",
            "md5(g::text)::uuid",
            List.of("id"),
            List.of("uuid"),
            List.of("00000000-0000-0000-0000-000000000000")),
    // Ten tenants of 10% each, the tenant's text in an ICU collation where the server has one.
    TEXT(
            "(tenant text, id bigint)",
            "tenant text COLLATE %s NOT NULL, id bigint NOT NULL",
            "'tenant-' || (g %% 10), g",
            List.of("tenant", "id"),
            List.of("text", "bigint"),
            List.of("", "0"));

    private final String described;
    private final String columns;
    private final String values;
    private final List<String> key;
    private final List<String> types;
    private final List<String> first;

    /**
     * @param types the key columns' types
     * @param first the key's values below its first row's, where the loops start
     */
    KeyKind(String described, String columns, String values, List<String> key, List<String> types, List<String> first) {
        this.described = described;
        this.columns = columns;
        this.values = values;
        this.key = key;
        this.types = types;
        this.first = first;
    }

    /** {@code bigint}, {@code uuid} or {@code text}, as {@code --key} takes it. */
    String option() {
        return name().toLowerCase(Locale.ROOT);
    }

    static KeyKind of(String option) {
        for (KeyKind k : values()) {
            if (k.option().equals(option)) {
                return k;
            }
        }
        return null;
    }

    /** The key's columns and their types, as the output names them. */
    String described() {
        return described;
    }

    /** The key's column definitions, with {@code collation} for a text column. */
    String columns(String collation) {
        return columns.formatted(collation) + (key.size() > 1 ? ", PRIMARY KEY (" + String.join(", ", key) + ")" : "");
    }

    /** The key's values of row number {@code g}, for an {@code INSERT ... SELECT} over {@code generate_series}. */
    String rowValues() {
        return values.formatted();
    }

    /** The key's columns, in the index's order. */
    List<String> key() {
        return key;
    }

    /**
     * The PL/pgSQL keyset loop over this key, committing every batch: {@code %1$s} the table, {@code %2$d} the batch.
     * A batch's last key is its first in descending order (no max(uuid) before PostgreSQL 18).
     */
    String loop() {
        List<String> declared = new ArrayList<>();
        List<String> into = new ArrayList<>();
        List<String> lows = new ArrayList<>();
        for (int i = 0; i < key.size(); i++) {
            declared.add("lo" + i + " " + types.get(i) + " := " + literal(first.get(i)) + "; hi" + i + " "
                    + types.get(i) + ";");
            into.add("hi" + i);
            lows.add("lo" + i);
        }
        String lo = row(lows);
        String hi = row(into);
        return "DO $$ DECLARE " + String.join(" ", declared) + " BEGIN\n"
                + "  LOOP\n"
                + "    SELECT " + prefixed("b.", key) + " INTO " + String.join(", ", into) + "\n"
                + "      FROM (SELECT " + String.join(", ", key) + " FROM %1$s WHERE " + row(key) + " > " + lo
                + " ORDER BY " + String.join(", ", key) + " LIMIT %2$d) b\n"
                + "      ORDER BY " + descending("b.") + " LIMIT 1;\n"
                + "    EXIT WHEN hi0 IS NULL;\n"
                + "    UPDATE %1$s SET " + SET + "\n"
                + "      WHERE " + row(key) + " > " + lo + " AND " + row(key) + " <= " + hi + ";\n"
                + "    COMMIT;\n"
                + "    " + assignments(lows, into) + "\n"
                + "  END LOOP;\n"
                + "END $$";
    }

    /**
     * The loop's batch as one statement a client sends: the batch's last key found and the batch written, in one
     * round trip and (in autocommit) one commit. Its parameters are the key's values below the batch, as text, twice;
     * its row, the batch's last key as text (no row when no key is left) and the rows written. {@code %1$s} the
     * table, {@code %2$d} the batch.
     */
    String clientBatch() {
        List<String> lows = new ArrayList<>();
        for (String type : types) {
            lows.add("CAST(? AS " + type + ")");
        }
        String lo = row(lows);
        return "WITH r AS (SELECT " + prefixed("b.", key) + " FROM (SELECT " + String.join(", ", key) + " FROM %1$s"
                + " WHERE " + row(key) + " > " + lo + " ORDER BY " + String.join(", ", key) + " LIMIT %2$d) b"
                + " ORDER BY " + descending("b.") + " LIMIT 1),"
                + " u AS (UPDATE %1$s AS t SET "
                + SET
                + " FROM r WHERE " + row(prefixedList("t.", key)) + " > " + lo + " AND " + row(prefixedList("t.", key))
                + " <= " + row(prefixedList("r.", key)) + " RETURNING 1)"
                + " SELECT "
                + String.join(", ", key.stream().map(k -> "r." + k + "::text").toList())
                + ", (SELECT count(*) FROM u) FROM r";
    }

    /** The key's values below its first row's, as text: where the loops start. */
    List<String> first() {
        return first;
    }

    /**
     * The backfill every contender run from here writes (Sluice's and Spring Batch's say it in their own forms): the
     * table's columns only, unambiguous beside a batch's key columns.
     */
    static final String SET = "email_lower = lower(email), amount_dollars = amount_cents / 100.0";

    private static String literal(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    private static String row(List<String> parts) {
        return parts.size() == 1 ? parts.get(0) : "(" + String.join(", ", parts) + ")";
    }

    private static List<String> prefixedList(String prefix, List<String> names) {
        return names.stream().map(n -> prefix + n).toList();
    }

    private static String prefixed(String prefix, List<String> names) {
        return String.join(", ", prefixedList(prefix, names));
    }

    private String descending(String prefix) {
        return String.join(", ", key.stream().map(k -> prefix + k + " DESC").toList());
    }

    private static String assignments(List<String> to, List<String> from) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < to.size(); i++) {
            out.add(to.get(i) + " := " + from.get(i) + ";");
        }
        return String.join(" ", out);
    }
}
