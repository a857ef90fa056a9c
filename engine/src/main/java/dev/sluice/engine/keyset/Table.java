package dev.sluice.engine.keyset;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A table as the catalog describes it: enough to check a spec against it and to build statements that name only
 * what exists.
 *
 * @param qualifiedName schema-qualified and quoted, ready to paste into SQL
 * @param name          the table's own name, unquoted (what an unqualified reference to it in SQL names)
 * @param columns       by name, in table order
 * @param partitioned   whether its rows lie in other tables too: a partitioned table's partitions, an inheritance
 *                      parent's children
 */
public record Table(
        long oid,
        String qualifiedName,
        String name,
        Map<String, Column> columns,
        List<UniqueIndex> uniqueIndexes,
        boolean partitioned) {

    /**
     * The column an operator means by {@code name}: the exact name, or else the name as PostgreSQL folds an
     * unquoted identifier (lower case), as a hand-written statement would.
     */
    public Column column(String name) {
        Column exact = columns.get(name);
        return exact != null ? exact : columns.get(name.toLowerCase(Locale.ROOT));
    }
}
