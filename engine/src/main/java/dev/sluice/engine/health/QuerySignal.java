package dev.sluice.engine.health;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

import javax.sql.DataSource;

import dev.sluice.engine.spec.SqlFragments;

/**
 * {@code health.query}: an operator's own signal, a query returning one number, held while it is above {@code max}
 * (queue depth, a business metric, a flag table). It runs as a scalar subquery in a read-only transaction with a
 * short statement timeout,
 * so that it can neither write nor hang the runner; a query that fails, returns no row, or returns NULL counts as
 * unreadable, and the gate fails closed.
 */
public final class QuerySignal implements Signal {

    // A signal read every poll must answer quickly; a slow one is a broken one.
    private static final String TIMEOUT = "5s";

    private final DataSource dataSource;
    private final String sql;
    private final double max;

    QuerySignal(DataSource dataSource, String sql, double max) {
        this.dataSource = dataSource;
        this.sql = sql;
        this.max = max;
    }

    @Override
    public String name() {
        return "health.query";
    }

    @Override
    public List<Reading> read() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setReadOnly(true);
            c.setAutoCommit(false);
            try {
                try (PreparedStatement ps = c.prepareStatement("SELECT set_config('statement_timeout', ?, true)")) {
                    ps.setString(1, TIMEOUT);
                    ps.execute();
                }
                return List.of(Reading.count("health.query", "value", value(c), max));
            } finally {
                c.rollback();
            }
        }
    }

    /**
     * The operator's query as the one statement Sluice sends: a scalar subquery (so nothing can follow it, and no
     * data-modifying statement can hide in it), cast to a number. The spec checks the text reads as one expression.
     */
    public static String statement(String sql) {
        return "SELECT CAST((" + SqlFragments.forJdbc(sql) + ") AS double precision)";
    }

    private double value(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(statement(sql));
                ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                throw new SQLException("health.query returned no row");
            }
            double v = rs.getDouble(1);
            if (rs.wasNull()) {
                throw new SQLException("health.query returned NULL");
            }
            return v;
        }
    }
}
