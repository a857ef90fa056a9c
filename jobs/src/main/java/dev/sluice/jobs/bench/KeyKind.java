package dev.sluice.jobs.bench;

import java.util.List;
import java.util.Locale;

/**
 * The key the bench table is walked by ({@code bench --key}): what its rows are keyed on changes what a chunk costs
 * (a {@code bigint} is dense and sorts in the table's order; a {@code uuid} is random, so a chunk's rows lie on many
 * pages; a composite key over collated text compares through its collation, before the row-value comparison).
 */
enum KeyKind {
    BIGINT("bigint", "id bigint PRIMARY KEY", "g", List.of("id"), singleColumnLoop("bigint", "0")),
    // Random keys (an md5 per row): the table's order is not the key's, as with uuid v4 keys.
    UUID(
            "uuid",
            "id uuid PRIMARY KEY",
            "md5(g::text)::uuid",
            List.of("id"),
            singleColumnLoop("uuid", "'00000000-0000-0000-0000-000000000000'")),
    // Ten tenants of 10% each, the tenant's text in an ICU collation where the server has one.
    TEXT(
            "(tenant text, id bigint)",
            "tenant text COLLATE %s NOT NULL, id bigint NOT NULL",
            "'tenant-' || (g %% 10), g",
            List.of("tenant", "id"),
            """
            DO $$ DECLARE lt text := ''; li bigint := 0; ht text; hi bigint; BEGIN
              LOOP
                SELECT b.tenant, b.id INTO ht, hi
                  FROM (SELECT tenant, id FROM %1$s WHERE (tenant, id) > (lt, li) ORDER BY tenant, id LIMIT %2$d) b
                  ORDER BY b.tenant DESC, b.id DESC LIMIT 1;
                EXIT WHEN hi IS NULL;
                UPDATE %1$s SET email_lower = lower(email), amount_dollars = amount_cents / 100.0
                  WHERE (tenant, id) > (lt, li) AND (tenant, id) <= (ht, hi);
                COMMIT;
                lt := ht;
                li := hi;
              END LOOP;
            END $$""");

    private final String described;
    private final String columns;
    private final String values;
    private final List<String> key;
    private final String loop;

    KeyKind(String described, String columns, String values, List<String> key, String loop) {
        this.described = described;
        this.columns = columns;
        this.values = values;
        this.key = key;
        this.loop = loop;
    }

    /**
     * The keyset loop over a single-column key {@code id} of {@code type}, from below {@code first}. No max(uuid)
     * before PostgreSQL 18: a batch's last key is its first in descending order.
     */
    private static String singleColumnLoop(String type, String first) {
        return "DO $$ DECLARE lo " + type + " := " + first + "; hi " + type + "; BEGIN\n" + """
                  LOOP
                    SELECT b.id INTO hi FROM (SELECT id FROM %1$s WHERE id > lo ORDER BY id LIMIT %2$d) b
                      ORDER BY b.id DESC LIMIT 1;
                    EXIT WHEN hi IS NULL;
                    UPDATE %1$s SET email_lower = lower(email), amount_dollars = amount_cents / 100.0
                      WHERE id > lo AND id <= hi;
                    COMMIT;
                    lo := hi;
                  END LOOP;
                END $$""";
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

    /** The PL/pgSQL keyset loop over this key, committing every batch: {@code %1$s} the table, {@code %2$d} the batch. */
    String loop() {
        return loop;
    }
}
