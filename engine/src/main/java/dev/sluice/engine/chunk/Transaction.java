package dev.sluice.engine.chunk;

import java.sql.Connection;
import java.sql.SQLException;

/** One transaction of work on a connection outside any runner: committed if the work returns, else rolled back. */
public final class Transaction {

    /** The work, on the transaction's connection. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private Transaction() {}

    /** Runs {@code work} in a transaction of its own on {@code c}, then gives the connection back as it was. */
    public static <T> T run(Connection c, Work<T> work) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            T result = work.run(c);
            c.commit();
            return result;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }
}
