package dev.sluice.engine.keyset;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * A one-row statement to be sent ahead of a range query in the same round trip (pgJDBC sends the statements of one
 * text, split at its semicolons, before it waits for the first answer; the server runs them in order, so what the
 * first one sets is in force when the second is planned): a chunk's transaction settings, sent with its range query.
 */
public interface Prelude {

    /** Its text: one statement that returns one row. */
    String sql();

    /** Binds its parameters from index 1. @return the first index after them */
    int bind(PreparedStatement ps) throws SQLException;

    /** Reads its row. */
    void read(ResultSet rs) throws SQLException;
}
