package dev.sluice.engine.preflight;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.sluice.engine.keyset.Sql;
import dev.sluice.engine.keyset.Table;
import dev.sluice.engine.spec.SpecException;

/**
 * Asks PostgreSQL what each expression of a spec reads and whether a trigger may evaluate it, in a transaction that
 * is always rolled back: each expression becomes a temporary view over the table (its dependencies in pg_depend are
 * the columns and tables it reads) and, where a trigger evaluates it, a generated column of a temporary copy of the
 * table (which PostgreSQL refuses unless the expression is immutable and reads only the row). Neither evaluates the
 * expression: the view is never queried, and the copy has no rows.
 */
final class SyncProbe {

    /** One expression the job's trigger or runner evaluates: the spec field it came from and the type it yields. */
    record Expr(String field, String sql, String type) {}

    /**
     * What an expression reads: columns of the table, and other tables. PostgreSQL records a dependency on the whole
     * table ({@code wholeRowOrNothing}) both for a whole-row reference and for an expression that reads no column;
     * where a trigger evaluates the expression, the generated-column probe refuses whole-row references, so there it
     * means nothing read.
     */
    record Reads(Set<String> columns, Set<String> otherTables, boolean wholeRowOrNothing) {}

    private SyncProbe() {}

    /**
     * What each expression reads, and (when a trigger evaluates them) that each is immutable and reads only the row.
     *
     * @param evaluatedByTrigger whether the trigger itself evaluates the expressions (in place, mirror)
     */
    static Map<Expr, Reads> probe(Connection c, Table table, List<Expr> exprs, boolean evaluatedByTrigger)
            throws SQLException {
        Map<Expr, Reads> out = new LinkedHashMap<>();
        try (ProbeTransaction tx = ProbeTransaction.begin(c)) {
            int i = 0;
            for (Expr e : exprs) {
                String view = "sluice_probe_" + i++;
                tx.execute("CREATE TEMP VIEW " + view + " AS SELECT (" + e.sql() + "\n) AS v FROM "
                        + table.qualifiedName());
                out.put(e, reads(c, view, table));
            }
            if (evaluatedByTrigger) {
                // The copy takes the table's name, so that expressions qualifying columns with it still resolve.
                tx.execute("CREATE TEMP TABLE " + Sql.quote(table.name()) + " (LIKE " + table.qualifiedName() + ")");
                String copy = "pg_temp." + Sql.quote(table.name());
                i = 0;
                for (Expr e : exprs) {
                    try {
                        tx.execute("ALTER TABLE " + copy + " ADD COLUMN sluice_probe_" + i++ + " " + e.type()
                                + " GENERATED ALWAYS AS ((" + e.sql() + "\n)) STORED");
                    } catch (SQLException failed) {
                        throw new SpecException(e.field(), "with sync: trigger, " + why(failed));
                    }
                }
            }
        }
        return out;
    }

    private static String why(SQLException e) {
        String message = e.getMessage() == null ? "" : e.getMessage().replaceFirst("^ERROR: ", "");
        int nl = message.indexOf('\n');
        message = nl < 0 ? message : message.substring(0, nl);
        if ("42P17".equals(e.getSQLState()) && message.contains("immutable")) {
            return "the expression must be IMMUTABLE (PostgreSQL: " + message + "): a trigger evaluates it at each"
                    + " write, and now(), random() or a STABLE function would give another value than the backfill did";
        }
        if ("0A000".equals(e.getSQLState()) || "42P17".equals(e.getSQLState())) {
            return "the expression may read only the row's own columns (PostgreSQL: " + message + ")";
        }
        return "a trigger cannot evaluate it: " + message;
    }

    private static Reads reads(Connection c, String view, Table table) throws SQLException {
        Set<String> columns = new LinkedHashSet<>();
        Set<String> others = new LinkedHashSet<>();
        boolean whole = false;
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT DISTINCT d.refobjid = ? AS own, d.refobjsubid, a.attname, d.refobjid::regclass::text
                FROM pg_depend d
                JOIN pg_rewrite r ON r.oid = d.objid
                LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                WHERE d.classid = 'pg_rewrite'::regclass AND r.ev_class = to_regclass(?)
                  AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.ev_class""")) {
            ps.setLong(1, table.oid());
            ps.setString(2, "pg_temp." + view);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (!rs.getBoolean(1)) {
                        others.add(rs.getString(4));
                    } else if (rs.getInt(2) == 0) {
                        whole = true;
                    } else {
                        columns.add(rs.getString(3));
                    }
                }
            }
        }
        return new Reads(columns, others, whole);
    }
}
