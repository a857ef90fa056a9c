package dev.sluice.engine.chunk;

import java.util.ArrayList;
import java.util.List;

import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Table;

/**
 * A copy's upsert with its journal entry, in one statement: for each target row it wrote, the key, the written
 * columns as they were (a replaced row), or that the row did not exist (an inserted one), and the hash of what it
 * wrote (the whole row). The rows to write come from a CTE {@code s}, one column {@code sluice_c<i>} per target column.
 */
final class CopyJournal {

    private CopyJournal() {}

    /**
     * @param rows     {@code s AS (...)}: the rows to write
     * @param values   the value written into each target column, as SQL over {@code s}
     * @param upsert   the {@code ON CONFLICT} clause
     */
    static String statement(
            Journal journal,
            Table target,
            List<Column> columns,
            List<String> values,
            List<Column> conflict,
            String rows,
            String upsert) {
        String names = String.join(", ", columns.stream().map(Column::quoted).toList());
        String insert = "INSERT INTO " + target.qualifiedName() + " (" + names + ") SELECT " + String.join(", ", values)
                + " FROM s";
        String table = target.qualifiedName();
        // The hash covers the whole target row, not only what the copy writes: a row it inserted that the
        // application has changed since, in any column, is not deleted by a rollback.
        List<Column> whole = List.copyOf(target.columns().values());
        if (journal.returningOld()) {
            return "WITH " + rows + ", w AS (" + insert + upsert + " RETURNING "
                    + Journal.row(
                            Journal.texts("NEW.", conflict),
                            Journal.texts("OLD.", columns),
                            "OLD." + conflict.get(0).quoted() + " IS NOT NULL",
                            Journal.hash("NEW.", whole))
                    + ") " + journal.insertFrom("w", conflict.size(), columns.size());
        }
        // Before PostgreSQL 18: the rows the upsert will replace, read and locked first in the same statement.
        List<String> old = new ArrayList<>();
        List<String> wrote = new ArrayList<>();
        List<String> join = new ArrayList<>();
        List<String> keyText = new ArrayList<>();
        List<String> incoming = new ArrayList<>();
        for (int i = 0; i < conflict.size(); i++) {
            Column k = conflict.get(i);
            old.add(k.quoted() + " AS sluice_k" + i);
            wrote.add(table + "." + k.quoted() + " AS sluice_w" + i);
            join.add("w.sluice_w" + i + " = o.sluice_k" + i);
            keyText.add("w.sluice_w" + i + "::text");
            // The column's full type, as the upsert stores it: a key rounded by its modifier finds its row.
            incoming.add("CAST(" + values.get(columns.indexOf(k)) + " AS " + k.type() + ")");
        }
        List<String> before = new ArrayList<>();
        for (int i = 0; i < columns.size(); i++) {
            old.add(columns.get(i).quoted() + "::text AS sluice_b" + i);
            before.add("o.sluice_b" + i);
        }
        List<String> lookup = new ArrayList<>();
        for (int i = 0; i < conflict.size(); i++) {
            lookup.add(table + "." + conflict.get(i).quoted() + " = " + incoming.get(i));
        }
        // The target rows are looked up one incoming key at a time (a lateral subquery that locks is not flattened:
        // the planner cannot turn it into a scan of the target, whatever it estimates). The upsert waits for o to be
        // read whole (a one-time filter on it): read lazily, o could meet a row the upsert had already changed, which
        // FOR UPDATE skips as modified by this statement, and lose its pre-image.
        return "WITH " + rows + ", o AS (SELECT sluice_o.* FROM s CROSS JOIN LATERAL (SELECT " + String.join(", ", old)
                + " FROM " + table + " WHERE " + String.join(" AND ", lookup) + " FOR UPDATE) AS sluice_o), w AS ("
                + insert
                + " WHERE (SELECT count(*) FROM o) >= 0" + upsert + " RETURNING "
                + String.join(", ", wrote) + ", " + Journal.hash(table + ".", whole) + " AS h), x AS (SELECT "
                + Journal.row(keyText, before, "o.sluice_k0 IS NOT NULL", "w.h") + " FROM w LEFT JOIN o ON "
                + String.join(" AND ", join) + ") " + journal.insertFrom("x", conflict.size(), columns.size());
    }
}
