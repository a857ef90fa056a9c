package dev.sluice.engine.control;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.OptionalInt;

import javax.sql.DataSource;

/**
 * One runner per job and database: a session-level advisory lock keyed by the job's name, held on a connection
 * of its own for the whole run. PostgreSQL releases it when that session ends, however the runner dies, so a
 * killed runner never blocks the next one.
 */
public final class RunnerLock implements AutoCloseable {

    private static final String KEY = "hashtextextended('sluice.job:' || ?, 0)";
    // How often the runner makes sure its lock session is still alive: a lost session means another runner
    // could take the job, so this runner must stop. Often enough to notice within a few chunks, rarely enough
    // to cost nothing.
    private static final long VERIFY_EVERY_NANOS = 5_000_000_000L;

    private final Connection connection;
    private final String job;
    private long verifiedAt = System.nanoTime();

    private RunnerLock(Connection connection, String job) {
        this.connection = connection;
        this.job = job;
    }

    /** @return the lock, or null if another session holds it */
    public static RunnerLock tryAcquire(DataSource dataSource, String job) throws SQLException {
        Connection c = dataSource.getConnection();
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_lock(" + KEY + ")")) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getBoolean(1)) {
                    return new RunnerLock(c, job);
                }
            }
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
        c.close();
        return null;
    }

    /** The backend pid of the session that holds the job's lock, if any. */
    public static OptionalInt holder(Connection c, String job) throws SQLException {
        String sql = "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
                + " AND ((classid::bigint << 32) | objid::bigint) = " + KEY + " AND database = ("
                + "SELECT oid FROM pg_database WHERE datname = current_database())";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? OptionalInt.of(rs.getInt(1)) : OptionalInt.empty();
            }
        }
    }

    /** The lock's session ended (the server restarted, the connection broke): another runner may take the job. */
    public static final class Lost extends IllegalStateException {
        Lost(String message, Throwable cause) {
            super(message, cause);
        }
    }

    // How long a liveness check may wait for the server before the lock counts as lost.
    private static final int VALID_TIMEOUT_SECONDS = 5;

    /**
     * Makes sure the lock's session is alive, at most every few seconds.
     *
     * @throws Lost if it is not: the lock is gone and the job must stop
     */
    public void verify() {
        long now = System.nanoTime();
        if (now - verifiedAt < VERIFY_EVERY_NANOS) {
            return;
        }
        verifyNow();
        verifiedAt = now;
    }

    /**
     * Makes sure the lock's session is alive, now.
     *
     * @throws Lost if it is not
     */
    public void verifyNow() {
        try {
            if (!connection.isValid(VALID_TIMEOUT_SECONDS)) {
                throw new Lost("lost the runner lock of job " + job + " (its session ended)", null);
            }
        } catch (SQLException e) {
            throw new Lost("lost the runner lock of job " + job + ": " + e.getMessage(), e);
        }
    }

    /** Whether the lock's session is still there (checked now). */
    public boolean isAlive() {
        try {
            verifyNow();
            return true;
        } catch (Lost e) {
            return false;
        }
    }

    /** Releases the lock; a lock whose session is already gone was released by PostgreSQL with it. */
    @Override
    public void close() {
        try (connection; PreparedStatement ps = connection.prepareStatement("SELECT pg_advisory_unlock(" + KEY + ")")) {
            ps.setString(1, job);
            ps.execute();
        } catch (SQLException e) {
            // The session ended, and the lock with it.
        }
    }
}
