package dev.sluice.engine.preflight;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.Map;

import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Table;
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
