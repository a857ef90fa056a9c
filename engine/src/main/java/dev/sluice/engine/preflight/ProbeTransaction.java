package dev.sluice.engine.preflight;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A transaction in which preflight asks PostgreSQL about expressions by creating temporary objects (views, a table
 * copy) that are never queried: short lock and statement timeouts, and always rolled back, so nothing outlives it.
 */
final class ProbeTransaction implements AutoCloseable {

    private final Connection c;
    private final boolean autoCommit;
    private final Statement statement;

    private ProbeTransaction(Connection c) throws SQLException {
        this.c = c;
        this.autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        this.statement = c.createStatement();
    }

    static ProbeTransaction begin(Connection c) throws SQLException {
        ProbeTransaction tx = new ProbeTransaction(c);
        try {
            // A view takes a weak lock on what it reads; a probe never waits long for it, nor runs long.
            tx.statement.execute("SET LOCAL lock_timeout = '2s'");
            tx.statement.execute("SET LOCAL statement_timeout = '30s'");
        } catch (SQLException | RuntimeException e) {
            tx.close();
            throw e;
        }
        return tx;
    }

    /** Runs one statement of the probe (DDL on temporary objects). */
    void execute(String sql) throws SQLException {
        statement.execute(sql);
    }

    @Override
    public void close() throws SQLException {
        try {
            statement.close();
            c.rollback();
            c.setAutoCommit(autoCommit);
        } catch (SQLException e) {
            if (!c.isClosed()) {
                throw e;
            } // a pool that closes connections on some server errors took it, and its transaction with it
        }
    }
}
