package dev.sluice.engine;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

import javax.sql.DataSource;

import dev.sluice.engine.keyset.Sql;

/** A job's undo journal as a whole: its size, and its purge (by finish, or a new start after a rollback). */
final class Journals {

    private Journals() {
    }

    /** Deletes the job's journal; returns the entries deleted. */
    static long purge(DataSource dataSource, String schema, String job) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("DELETE FROM " + Sql.quote(schema) + ".undo_journal WHERE job = ?")) {
            ps.setString(1, job);
            return ps.executeUpdate();
        }
    }
}
