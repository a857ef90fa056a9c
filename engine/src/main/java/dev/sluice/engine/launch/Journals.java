package dev.sluice.engine.launch;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

import javax.sql.DataSource;

import dev.sluice.engine.keyset.Sql;

/** A job's undo journal as a whole: its entries, and its purge (by finish, or a new start after a rollback). */
public final class Journals {

    private Journals() {}

    /** The job's journal entries now. */
    public static long entries(DataSource dataSource, String schema, String job) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "SELECT count(*) FROM " + Sql.quote(schema) + ".undo_journal" + " WHERE job = ?")) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Deletes the job's journal; returns the entries deleted. */
    public static long purge(DataSource dataSource, String schema, String job) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps =
                        c.prepareStatement("DELETE FROM " + Sql.quote(schema) + ".undo_journal WHERE job = ?")) {
            ps.setString(1, job);
            return ps.executeUpdate();
        }
    }
}
