package dev.sluice.engine.keyset;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import java.util.stream.Collectors;

import dev.sluice.engine.Key;
import dev.sluice.engine.KeyRange;
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
    // Per shape of a range predicate, the bound and column of each of its parameters, in order.
    private final List<int[]>[] bindings;
    // Whether a composite key's range is given to the index as scalar bounds (before PostgreSQL 18), or as the row
    // comparison itself, which PostgreSQL 18 stops on.
    private final boolean scalarBounds;

    private Keyset(Table table, UniqueIndex index, List<Column> columns) {
        this(table, index, columns, true);
    }

    private Keyset(Table table, UniqueIndex index, List<Column> columns, boolean scalarBounds) {
        this.table = table;
        this.index = index;
        this.columns = columns;
        this.scalarBounds = scalarBounds;
        @SuppressWarnings("unchecked")
        List<int[]>[] each = new List[columns.size() + 1];
        for (int shape = 0; shape < each.length; shape++) {
            each[shape] = new ArrayList<>();
            predicate(shape, i -> "c", each[shape]);
        }
        this.bindings = each;
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
            if (index.unfitness() == null
                    && index.columns().size() == names.size()
                    && index.columns().containsAll(names)) {
                throw new SpecException(
                        "key",
                        "unique index " + index.name() + " orders these columns as ["
                                + String.join(", ", index.columns()) + "]; list the key in that order");
            }
        }
        String primary = table.uniqueIndexes().stream()
                .filter(UniqueIndex::primary)
                .findFirst()
                .map(i -> " (the primary key is [" + String.join(", ", i.columns()) + "])")
                .orElse("");
        throw new SpecException("key", "no unique index on exactly (" + String.join(", ", names) + ")" + primary);
    }

    /**
     * This key as a server of major version {@code major} walks it: before PostgreSQL 18 a composite key's ranges are
     * given to the index as scalar bounds; from 18 on, as the row comparison, which the index then stops on (and which
     * no index but the key's can use).
     */
    public Keyset forServer(int major) {
        return new Keyset(table, index, columns, major < 18);
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
        return columns.stream().map(c -> "CAST(? AS " + c.castType() + ")").collect(Collectors.joining(", ", "(", ")"));
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
     * How many shapes a range's predicate takes: one for a range from the start, one for each number of leading key
     * columns its two bounds share (0 to width - 1). See {@link #rangePredicate(int, String)}.
     */
    public int shapes() {
        return columns.size() + 1;
    }

    /** The shape of a range that starts after a key and shares no leading column with its end: the general one. */
    public static final int AFTER = 1;

    /** The shape of {@code range}'s predicate: 0 from the start, else 1 + the leading key columns both bounds share. */
    public int shape(KeyRange range) {
        if (range.lo() == null) {
            return 0;
        }
        List<String> lo = range.lo().values();
        List<String> hi = range.hi().values();
        int shared = 0;
        // Text equal is equal (the same value's text); text that differs may still be equal in a collation that
        // ignores case, which the shape then treats as differing: still exact (see rangePredicate), only less narrow.
        while (shared < columns.size() - 1 && lo.get(shared).equals(hi.get(shared))) {
            shared++;
        }
        return 1 + shared;
    }

    /**
     * The predicate {@code key in (lo, hi]} (only {@code key <= hi} from the start) over the key columns, qualified by
     * {@code alias} (or not, when null), for a range of shape {@code shape} ({@link #shape}); its parameters are set by
     * {@link #bind(PreparedStatement, int, KeyRange)}.
     */
    public String rangePredicate(int shape, String alias) {
        return rangePredicate(shape, i -> ordered(alias, i));
    }

    /**
     * {@link #rangePredicate(int, String)} over other expressions of the key's columns, in the key index's order and
     * collations (a copy's target columns, cast to the key's types).
     *
     * <p>A range over a composite key is the row-value comparison {@code (a, b) > (lo) AND (a, b) <= (hi)}, which is
     * exact. As an index condition it reads too much before PostgreSQL 18: the index scan starts at {@code lo} but
     * stops only when the first column passes {@code hi}'s, so a chunk inside a group of rows that share a leading
     * value reads on to the group's end, a chunk of a thousand rows in a tenant of millions reads millions (measured:
     * a second a chunk on ten million rows; and alongside scalar conditions it keeps the scan from stopping on those
     * too). So the comparison stays, as a filter, for exactness, and the index is given the same range in scalar
     * conditions it can stop on: the leading columns both bounds share, by equality, and the rest cut into the pieces
     * {@code (a = lo_a AND b > lo_b)}, {@code (lo_a < a < hi_a)}, {@code (a = hi_a AND b <= hi_b)} (one level more per
     * column), each a scan the index bounds on both sides.
     */
    public String rangePredicate(int shape, IntFunction<String> column) {
        return predicate(shape, column, new ArrayList<>());
    }

    /**
     * {@link #rangePredicate(int, String)} as a filter only, never a way to read the table: for rows found another way
     * (by their place), whose range only says which of them to keep. Its parameters are the predicate's.
     */
    public String rangeFilter(int shape, String alias) {
        return filterOnly(rangePredicate(shape, alias));
    }

    /**
     * {@code predicate} as no index condition (a {@code coalesce()} is none), and opaque to the row estimate (which
     * weighs it a half); the same truth wherever the predicate is never NULL, as a range over a key's NOT NULL columns
     * never is.
     */
    private static String filterOnly(String predicate) {
        return "coalesce(" + predicate + ", false)";
    }

    /** How many parameters a range predicate of shape {@code shape} takes. */
    public int parameterCount(int shape) {
        return bindings[shape].size();
    }

    // A parameter of a predicate: a bound (LO or HI) and the column whose value it takes.
    private static final int LO = 0;
    private static final int HI = 1;

    /** The predicate's text; {@code params} gets, in order, the bound and column of each parameter it holds. */
    private String predicate(int shape, IntFunction<String> column, List<int[]> params) {
        int n = columns.size();
        List<String> all = new ArrayList<>();
        if (shape > 0) {
            all.add(row(column, params, LO, ">"));
        }
        all.add(row(column, params, HI, "<="));
        if (n == 1 || !scalarBounds) {
            // A single column's comparison is scalar; a row comparison stops the scan from PostgreSQL 18 on.
            return String.join(" AND ", all);
        }
        // The exact comparisons as a filter only: before PostgreSQL 18 a row comparison among an index scan's
        // conditions keeps it from stopping on the scalar ones. coalesce() is no index condition (keys are never NULL:
        // it is the comparisons' own truth), and it hides them from the row estimate, which takes a row comparison
        // for its first column alone: in the last leading value's group ("tenant > 'beta'" holds for no row) that
        // is no row at all, and a chunk's list of rows, joined to a range so estimated, was compared with every row
        // of it (a nested loop over the list for each row: a million comparisons for a chunk of a thousand, 0.3 s on
        // 15; ChunkPlansTest). Opaque, the pair weighs a half, and the scalar pieces make the estimate.
        String exact = filterOnly(String.join(" AND ", all));
        all.clear();
        all.add(exact);
        int shared = shape == 0 ? 0 : shape - 1;
        for (int i = 0; i < shared; i++) {
            all.add(compare(column, params, i, "=", LO));
        }
        List<String> pieces = new ArrayList<>();
        if (shape > 0) {
            for (int last = n - 1; last > shared; last--) {
                pieces.add(piece(column, params, shared, last, LO, ">"));
            }
            pieces.add("(" + compare(column, params, shared, ">", LO) + " AND "
                    + compare(column, params, shared, n - 1 == shared ? "<=" : "<", HI) + ")");
        } else {
            pieces.add("(" + compare(column, params, shared, n - 1 == shared ? "<=" : "<", HI) + ")");
        }
        for (int last = shared + 1; last < n; last++) {
            pieces.add(piece(column, params, shared, last, HI, last == n - 1 ? "<=" : "<"));
        }
        all.add(pieces.size() == 1 ? pieces.get(0) : "(" + String.join(" OR ", pieces) + ")");
        return String.join(" AND ", all);
    }

    /** {@code (c_from = b_from AND ... AND c_last OP b_last)} for bound {@code side}. */
    private String piece(IntFunction<String> column, List<int[]> params, int from, int last, int side, String op) {
        List<String> parts = new ArrayList<>();
        for (int i = from; i < last; i++) {
            parts.add(compare(column, params, i, "=", side));
        }
        parts.add(compare(column, params, last, op, side));
        return "(" + String.join(" AND ", parts) + ")";
    }

    private String compare(IntFunction<String> column, List<int[]> params, int i, String op, int side) {
        params.add(new int[] {side, i});
        return column.apply(i) + " " + op + " CAST(? AS " + columns.get(i).castType() + ")";
    }

    /** The row-value comparison {@code (c0, c1, ...) OP (bound)}: exact whatever the collations. */
    private String row(IntFunction<String> column, List<int[]> params, int side, String op) {
        List<String> cols = new ArrayList<>();
        for (int i = 0; i < columns.size(); i++) {
            cols.add(column.apply(i));
            params.add(new int[] {side, i});
        }
        return "(" + String.join(", ", cols) + ") " + op + " " + parameters();
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

    /**
     * Binds the parameters of {@code range}'s predicate (of its {@link #shape}) from parameter index {@code first};
     * returns the next free index.
     */
    public int bind(PreparedStatement ps, int first, KeyRange range) throws SQLException {
        int next = first;
        for (int[] p : bindings[shape(range)]) {
            ps.setString(next++, (p[0] == LO ? range.lo() : range.hi()).values().get(p[1]));
        }
        return next;
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
