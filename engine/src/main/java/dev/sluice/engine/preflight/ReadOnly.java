package dev.sluice.engine.preflight;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Preflight's transaction: read-only, always rolled back, and unable to end early. Nothing preflight runs executes
 * operator SQL (it is only planned), and every statement carrying it is first proved to be one statement; this is
 * the second wall. The session's default is read-only too while preflight runs, so that even a transaction begun
 * after an unforeseen COMMIT could not write; and a marker set for the transaction alone must still be there at
 * the end, or preflight fails instead of trusting what it saw.
 */
final class ReadOnly implements AutoCloseable {

    private static final String MARKER = "sluice.preflight";

    private final Connection c;
    private final boolean autoCommit;

    private ReadOnly(Connection c) throws SQLException {
        this.c = c;
        this.autoCommit = c.getAutoCommit();
    }

    static ReadOnly begin(Connection c) throws SQLException {
        ReadOnly tx = new ReadOnly(c);
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute("SET default_transaction_read_only = on");
            st.execute("SET TRANSACTION READ ONLY");
            st.execute("SELECT set_config('" + MARKER + "', 'on', true)");
        } catch (SQLException | RuntimeException e) {
            tx.close();
            throw e;
        }
        return tx;
    }

    /** @throws IllegalStateException if the transaction is not the one preflight began */
    void verify() throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT current_setting('" + MARKER + "', true)");
                ResultSet rs = ps.executeQuery()) {
            if (!rs.next() || !"on".equals(rs.getString(1))) {
                throw new IllegalStateException(
                        "preflight's transaction ended before its checks did; nothing it saw" + " can be trusted");
            }
        }
    }

    @Override
    public void close() throws SQLException {
        if (c.isClosed()) {
            return; // closed by the pool after an error: nothing to roll back on it
        }
        try {
            c.rollback();
            c.setAutoCommit(true);
            try (Statement st = c.createStatement()) {
                st.execute("RESET default_transaction_read_only");
            }
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }
}
