package dev.sluice.engine.chunk;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;

/**
 * {@code SET LOCAL lock_timeout} and {@code statement_timeout} for the chunk's transaction, so that a chunk
 * blocked behind another session's lock gives way after the lock timeout instead of queueing everyone behind it.
 */
public final class ChunkTimeouts {

    // With the WAL insert position as the chunk begins, so that what the chunk wrote can be measured at its end.
    private static final String SET_LOCAL = "SELECT set_config('lock_timeout', ?, true),"
            + " set_config('statement_timeout', ?, true), pg_current_wal_insert_lsn()::text, pg_backend_pid()";

    /** Where a chunk's transaction starts: the WAL insert position, and the backend that runs the chunk. */
    public record Start(String walPosition, int backendPid) {
    }

    private final String lock;
    private final String statement;

    public ChunkTimeouts(Duration lock, Duration statement) {
        this.lock = lock.toMillis() + "ms";
        this.statement = statement.toMillis() + "ms";
    }

    /**
     * Applies both timeouts until the end of the current transaction.
     *
     * @return the server's WAL insert position now (for {@link #walSince}), and the chunk's backend
     */
    public Start apply(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SET_LOCAL)) {
            ps.setString(1, lock);
            ps.setString(2, statement);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new Start(rs.getString(3), rs.getInt(4));
            }
        }
    }

    /**
     * The WAL the server wrote since {@code start} ({@link #apply}'s position): the chunk's own, and on a busy server
     * also what other sessions wrote meanwhile, so a WAL budget errs on the side of writing less (see docs).
     */
    public static long walSince(Connection c, String start) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), CAST(? AS pg_lsn))::bigint")) {
            ps.setString(1, start);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return Math.max(0, rs.getLong(1));
            }
        }
    }
}
