package dev.sluice.engine.keyset;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import dev.sluice.engine.spec.SpecException;

/**
 * A table's key resolved against a unique index that orders it, with the SQL fragments that walk it. Every
 * comparison is a row-value comparison with each column in the index's own collation, so PostgreSQL serves both
 * range bounds from the index and orders exactly as the index does, whatever the database's default collation.
 */
public final class Keyset {

    private final Table table;
    private final UniqueIndex index;
    private final List<Column> columns;

    private Keyset(Table table, UniqueIndex index, List<Column> columns) {
        this.table = table;
        this.index = index;
        this.columns = columns;
    }

    /** @throws SpecException (field {@code key}) unless the columns are NOT NULL and exactly a fit unique index */
    public static Keyset resolve(Table table, List<String> key) {
        List<Column> columns = new ArrayList<>();
        for (String name : key) {
            Column col = table.column(name);
            if (col == null) {
                throw new SpecException("key", "no column '" + name + "' in " + table.qualifiedName());
            }
            if (!col.notNull()) {
                throw new SpecException("key", "column '" + col.name() + "' allows NULL; key columns must be NOT NULL");
            }
            columns.add(col);
        }
        List<String> names = columns.stream().map(Column::name).toList();
        String unfit = null;
        for (UniqueIndex index : table.uniqueIndexes()) {
            if (index.columns().equals(names)) {
                String why = index.unfitness();
                if (why == null) {
                    return new Keyset(table, index, columns);
                }
                unfit = "unique index " + index.name() + " on (" + String.join(", ", names) + ") " + why;
            }
        }
        if (unfit != null) {
            throw new SpecException("key", unfit);
        }
        for (UniqueIndex index : table.uniqueIndexes()) {
            if (index.unfitness() == null && index.columns().size() == names.size()
                    && index.columns().containsAll(names)) {
                throw new SpecException("key", "unique index " + index.name() + " orders these columns as ["
                        + String.join(", ", index.columns()) + "]; list the key in that order");
            }
        }
        String primary = table.uniqueIndexes().stream().filter(UniqueIndex::primary).findFirst()
                .map(i -> " (the primary key is [" + String.join(", ", i.columns()) + "])").orElse("");
        throw new SpecException("key", "no unique index on exactly (" + String.join(", ", names) + ")" + primary);
    }

    public Table table() {
        return table;
    }

    public UniqueIndex index() {
        return index;
    }

    public List<Column> columns() {
        return columns;
    }

    public int width() {
        return columns.size();
    }

    /** {@code ("a" COLLATE "pg_catalog"."C", "b")}: the key as a row value in the index's ordering. */
    public String tuple() {
        return tuple(null);
    }

    /** The key as a row value in the index's ordering, its columns qualified by {@code alias}. */
    public String tuple(String alias) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < columns.size(); i++) {
            parts.add(ordered(alias, i));
        }
        return "(" + String.join(", ", parts) + ")";
    }

    /** {@code (CAST(? AS integer), CAST(? AS text))}: a key bound as text and cast back to the column types. */
    public String parameters() {
        return columns.stream().map(c -> "CAST(? AS " + c.castType() + ")")
                .collect(Collectors.joining(", ", "(", ")"));
    }

    /** The key columns for a select list. */
    public String selectList() {
        return columns.stream().map(Column::quoted).collect(Collectors.joining(", "));
    }

    /**
     * The key columns as text, the form in which keys leave the database. Aliased, so that an ORDER BY of the
     * same query still sorts by the columns and not by their text.
     */
    public String textList() {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < columns.size(); i++) {
            parts.add(columns.get(i).quoted() + "::text AS key_text_" + (i + 1));
        }
        return String.join(", ", parts);
    }

    /** An ORDER BY list in the index's ordering, ascending or descending. */
    public String orderBy(boolean descending) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < columns.size(); i++) {
            parts.add(ordered(null, i) + (descending ? " DESC" : ""));
        }
        return String.join(", ", parts);
    }

    /**
     * The predicate {@code key > lo AND key <= hi}, or only the upper bound for the first range; its parameters
     * are set by {@link #bind(PreparedStatement, int, KeyRange)}.
     */
    public String rangePredicate(boolean fromTheStart) {
        return rangePredicate(fromTheStart, null);
    }

    /** {@link #rangePredicate(boolean)} with the key columns qualified by a table alias, for joins. */
    public String rangePredicate(boolean fromTheStart, String alias) {
        String upper = tuple(alias) + " <= " + parameters();
        return fromTheStart ? upper : tuple(alias) + " > " + parameters() + " AND " + upper;
    }

    /**
     * The key in columns {@code first .. first+width-1} of the current row, selected as text ({@link #textList}):
     * the one way keys are read back from the database.
     */
    public Key read(ResultSet rs, int first) throws SQLException {
        List<String> values = new ArrayList<>(columns.size());
        for (int i = 0; i < columns.size(); i++) {
            values.add(rs.getString(first + i));
        }
        return new Key(values);
    }

    /** Binds a range's bounds from parameter index {@code first}; returns the next free index. */
    public int bind(PreparedStatement ps, int first, KeyRange range) throws SQLException {
        int next = first;
        if (range.lo() != null) {
            next = bind(ps, next, range.lo());
        }
        return bind(ps, next, range.hi());
    }

    /** Binds one key's values from parameter index {@code first}; returns the next free index. */
    public int bind(PreparedStatement ps, int first, Key key) throws SQLException {
        int next = first;
        for (String value : key.values()) {
            ps.setString(next++, value);
        }
        return next;
    }

    private String ordered(String alias, int i) {
        String col = (alias == null ? "" : alias + ".") + columns.get(i).quoted();
        String collation = index.parts().get(i).collation();
        return collation == null ? col : col + " COLLATE " + collation;
    }
}
