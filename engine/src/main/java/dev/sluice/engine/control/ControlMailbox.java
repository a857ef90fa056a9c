package dev.sluice.engine.control;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import javax.sql.DataSource;

import dev.sluice.engine.ControlRequest;
import dev.sluice.engine.chunk.Transaction;

/**
 * Operators' requests to a running job, from any process: a row per job and command in
 * {@code <schema>.job_control}. The runner takes them (deletes them) between chunks; a newer request of the same
 * kind replaces an older one.
 */
public final class ControlMailbox {

    private final DataSource dataSource;
    private final String table;

    public ControlMailbox(DataSource dataSource, String schema) {
        this.dataSource = dataSource;
        this.table = table(schema);
    }

    /** The mailbox's table in the job repository's schema. */
    public static String table(String schema) {
        return schema + ".job_control";
    }

    /**
     * The rate of a tune waiting in the mailbox (for the runner that resumes the job), or null; read on the
     * caller's connection, the table known to exist.
     */
    public static Long pendingRate(Connection c, String schema, String job) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT rows_per_second FROM " + table(schema)
                + " WHERE job = ? AND command = 'tune' AND rows_per_second IS NOT NULL")) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : null;
            }
        }
    }

    /** Leaves the request for the job's runner; {@code audit} (null: none) records it in the same transaction. */
    public void send(String job, ControlRequest request, String by, Audit.Entry audit) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            Transaction.run(c, tx -> {
                send(tx, job, request, by);
                if (audit != null) {
                    audit.begin(tx);
                }
                return null;
            });
        } catch (SQLException | RuntimeException e) {
            if (audit != null) {
                audit.rolledBack();
            }
            throw e;
        }
    }

    private void send(Connection c, String job, ControlRequest request, String by) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO " + table
                        + " (job, command, rows_per_second, chunk_target_ms, requested_by) VALUES (?, ?, ?, ?, ?)"
                        + " ON CONFLICT (job, command) DO UPDATE SET rows_per_second = excluded.rows_per_second,"
                        + " chunk_target_ms = excluded.chunk_target_ms, requested_at = now(), requested_by = excluded.requested_by")) {
            ps.setString(1, job);
            ps.setString(2, request.command().name().toLowerCase(Locale.ROOT));
            ps.setObject(3, request.rowsPerSecond());
            ps.setObject(
                    4,
                    request.chunkTarget() == null ? null : request.chunkTarget().toMillis());
            ps.setString(5, by);
            ps.executeUpdate();
        }
    }

    /** Whether the job has requests the runner has not taken yet. */
    public boolean pending(String job) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM " + table + " WHERE job = ?")) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1) > 0;
            }
        }
    }

    /** Takes the job's pending requests (they are removed). */
    public List<ControlRequest> take(String job) throws SQLException {
        List<ControlRequest> out = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("DELETE FROM " + table
                        + " WHERE job = ? RETURNING command, rows_per_second, chunk_target_ms")) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long rps = rs.getLong(2);
                    Long rate = rs.wasNull() ? null : rps;
                    long ms = rs.getLong(3);
                    Duration target = rs.wasNull() ? null : Duration.ofMillis(ms);
                    out.add(new ControlRequest(
                            ControlRequest.Command.valueOf(rs.getString(1).toUpperCase(Locale.ROOT)), rate, target));
                }
            }
        }
        return out;
    }
}
