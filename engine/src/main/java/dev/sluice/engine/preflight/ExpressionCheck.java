package dev.sluice.engine.preflight;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.List;
import java.util.Map;

import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Table;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.SqlFragments;

/**
 * Type-checks each operator-written expression against the real table with EXPLAIN (planned, never executed),
 * one at a time, so that an error names the field it comes from.
 */
final class ExpressionCheck {

    private ExpressionCheck() {
    }

    /** Must run inside a transaction: each EXPLAIN runs under a savepoint so one failure does not end it. */
    static void check(Connection c, Table table, Map<Column, String> set, String where) throws SQLException {
        for (Map.Entry<Column, String> e : set.entrySet()) {
            explain(c, "set." + e.getKey().name(), "UPDATE " + table.qualifiedName() + " SET " + e.getKey().quoted()
                    + " = (" + SqlFragments.forJdbc(e.getValue()) + ") WHERE false");
        }
        if (where != null) {
            explain(c, "where", "SELECT 1 FROM " + table.qualifiedName() + " WHERE (" + SqlFragments.forJdbc(where) + ")");
        }
    }

    /** Type-checks copy mode's expressions against the columns they fill. */
    static void checkCopy(Connection c, Table source, Table target, Map<Column, String> columns) throws SQLException {
        for (Map.Entry<Column, String> e : columns.entrySet()) {
            explain(c, "columns." + e.getKey().name(), "INSERT INTO " + target.qualifiedName() + " (" + e.getKey().quoted()
                    + ") SELECT (" + SqlFragments.forJdbc(e.getValue()) + ") FROM " + source.qualifiedName() + " WHERE false");
        }
    }

    /**
     * Across databases: each expression must type-check on the source, and its type must have a cast to the
     * target column's type on the target (values travel as text and are cast there).
     */
    static void checkCrossCopy(Connection source, Connection target, Table table, Map<Column, String> columns)
            throws SQLException {
        for (Map.Entry<Column, String> e : columns.entrySet()) {
            String field = "columns." + e.getKey().name();
            explain(source, field, "SELECT (" + SqlFragments.forJdbc(e.getValue()) + ") FROM " + table.qualifiedName()
                    + " WHERE false");
            String type;
            try (PreparedStatement ps = source.prepareStatement("SELECT (" + SqlFragments.forJdbc(e.getValue()) + ") FROM "
                    + table.qualifiedName() + " WHERE false")) {
                type = ps.getMetaData().getColumnTypeName(1);
            }
            try {
                explain(target, field, "SELECT CAST(CAST(NULL AS " + type + ") AS " + e.getKey().type() + ")");
            } catch (SpecException incompatible) {
                throw new SpecException(field, "the source gives " + type + ", which does not convert to "
                        + e.getKey().type() + " here: " + incompatible.getMessage().replaceFirst("^" + field + ": ", ""));
            }
        }
    }

    /** Type-checks validation rules: a comparison must be comparable with IS DISTINCT FROM, a check boolean. */
    static void checkRules(Connection c, Table table, List<JobSpec.ValidationRule> rules) throws SQLException {
        for (int i = 0; i < rules.size(); i++) {
            JobSpec.ValidationRule r = rules.get(i);
            String field = "validate[" + i + "]";
            if (r.check() != null) {
                explain(c, field + ".check", "SELECT 1 FROM " + table.qualifiedName() + " WHERE ("
                        + SqlFragments.forJdbc(r.check()) + ")");
                continue;
            }
            Column target = table.column(r.target());
            if (target == null) {
                throw new SpecException(field + ".target", "no column '" + r.target() + "' in " + table.qualifiedName());
            }
            explain(c, field + ".source", "SELECT " + target.quoted() + " IS DISTINCT FROM (" + SqlFragments.forJdbc(r.source())
                    + ") FROM " + table.qualifiedName() + " WHERE false");
        }
    }

    private static void explain(Connection c, String field, String sql) throws SQLException {
        Savepoint sp = c.setSavepoint();
        try (PreparedStatement ps = c.prepareStatement("EXPLAIN " + sql)) {
            ps.execute();
            c.releaseSavepoint(sp);
        } catch (SQLException e) {
            c.rollback(sp);
            if (e.getSQLState() != null && (e.getSQLState().startsWith("42") || e.getSQLState().startsWith("22"))) {
                throw new SpecException(field, ServerMessages.of(e));
            }
            throw e;
        }
    }
}
