package dev.sluice.engine.keyset;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * A one-row statement sent in the same round trip as another, before or after it (pgJDBC sends the statements of one
 * text, split at its semicolons, before it waits for the first answer; the server runs them in order, so what the
 * first sets is in force when the next is planned): a chunk's transaction settings ahead of its range query, the
 * query of the WAL it wrote after its write. Or run on its own.
 */
public interface Companion {

    /** Its text, one statement that returns one row; null when it cannot be sent with another ({@link #run} then). */
    String sql();

    /** Binds its parameters from index {@code from}. @return the first index after them */
    int bind(PreparedStatement ps, int from) throws SQLException;

    /** Reads its result, positioned before its one row. */
    void read(ResultSet rs) throws SQLException;

    /** Reads its result from {@code ps}, whose current result is its own. */
    default void readFrom(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.getResultSet()) {
            if (rs == null) {
                throw new SQLException("no result where " + sql() + " should have answered");
            }
            read(rs);
        }
    }

    /** Runs it on its own. */
    default void run(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql())) {
            bind(ps, 1);
            try (ResultSet rs = ps.executeQuery()) {
                read(rs);
            }
        }
    }
}
