package dev.sluice.engine.contract;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import javax.sql.DataSource;

import dev.sluice.engine.keyset.Sql;
import dev.sluice.engine.sync.LockSafe;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sessions that run a job's contract DDL, marked so that a later finish or rollback of the job can see them. A
 * killed {@code finish} loses its runner lock at once (that session is idle, and the server notices the closed
 * connection), but a statement it had sent (a {@code VALIDATE CONSTRAINT} or {@code CREATE INDEX CONCURRENTLY} over a
 * large table) goes on running on the server until it ends or next talks to its client. A new finish that went on
 * beside it would run DDL on the same table and catalog rows at the same time ("tuple concurrently updated", an index
 * dropped under a build). So each DDL session holds an advisory lock keyed by the job while it works (session-level
 * outside a transaction block, transaction-level inside one, so that it goes only when the server's work ends), and a
 * new finish or rollback first waits until nobody holds it. Long scans also ask the server to check for a dead client
 * every second ({@code client_connection_check_interval}, where the platform has it), so that a killed finish's scan
 * ends within a second rather than when its table is read.
 */
final class StepSessions {

    private static final Logger LOG = LoggerFactory.getLogger(StepSessions.class);

    static final String KEY = "hashtextextended('sluice.contract:' || ?, 0)";

    private final DataSource dataSource;
    private final String job;

    StepSessions(DataSource dataSource, String job) {
        this.dataSource = dataSource;
        this.job = job;
    }

    /**
     * Waits until no session of an earlier finish or rollback of this job is still running a step on the server. The
     * caller holds the job's runner lock, so no new one can begin meanwhile.
     */
    void awaitEarlier() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(true);
            try {
                // Tried, not waited for in one statement: a statement waiting on the lock would hold a snapshot, and an
                // earlier CREATE INDEX CONCURRENTLY waiting for older snapshots would then wait on it (a deadlock the
                // server breaks by cancelling one of them).
                long started = System.nanoTime();
                long toldAt = 0;
                while (!ask(c, "SELECT pg_try_advisory_lock(" + KEY + ")")) {
                    long now = System.nanoTime();
                    if (toldAt == 0 || now - toldAt > TELL_EVERY_NANOS) {
                        LOG.warn(
                                "job {}: a contract step of an earlier finish or rollback is still running on the"
                                        + " server{}, though the process that began it has gone; waiting for it to end"
                                        + " ({} s so far)",
                                job,
                                holder(c),
                                (now - started) / 1_000_000_000L);
                        toldAt = now;
                    }
                    try {
                        Thread.sleep(POLL_MILLIS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new SQLException("interrupted waiting for an earlier contract step to end", e);
                    }
                }
                ask(c, "SELECT pg_advisory_unlock(" + KEY + ")");
                if (toldAt != 0) {
                    LOG.info("job {}: the earlier contract step has ended; going on", job);
                }
            } finally {
                c.setAutoCommit(autoCommit);
            }
        }
    }

    private static final long POLL_MILLIS = 250;
    private static final long TELL_EVERY_NANOS = 30_000_000_000L;

    /** Runs {@code work} in a transaction (its lock timeout set by the caller), marked for that transaction. */
    void inTransaction(Connection c, LockSafe.Work work) throws SQLException {
        ask(c, "SELECT pg_advisory_xact_lock(" + KEY + ") IS NOT NULL");
        work.run(c);
    }

    /** Runs {@code work} on a session outside a transaction block, marked until it ends. */
    void outsideTransaction(Connection c, LockSafe.Work work) throws SQLException {
        ask(c, "SELECT pg_advisory_lock(" + KEY + ") IS NOT NULL");
        boolean checking = checkClient(c, "SET client_connection_check_interval = '1s'");
        try {
            work.run(c);
        } finally {
            if (checking) {
                checkClient(c, "RESET client_connection_check_interval");
            }
            ask(c, "SELECT pg_advisory_unlock(" + KEY + ")");
        }
    }

    /** @return whether the server took the setting (it refuses a non-zero interval where it cannot poll sockets) */
    private static boolean checkClient(Connection c, String sql) {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
            return true;
        } catch (SQLException e) {
            LOG.debug("client_connection_check_interval not set: {}", e.getMessage());
            return false;
        }
    }

    private boolean ask(Connection c, String sql) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** " (backend pid 123, running for 45 s)", or empty when it cannot be told. */
    private String holder(Connection c) {
        String sql = "SELECT l.pid, extract(epoch FROM now() - a.query_start)::bigint FROM pg_locks l"
                + " LEFT JOIN pg_stat_activity a ON a.pid = l.pid WHERE " + Sql.advisoryLockHeld("l", KEY) + " LIMIT 1";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next()
                        ? " (backend pid " + rs.getInt(1) + ", running for " + rs.getLong(2) + " s; pg_cancel_backend("
                                + rs.getInt(1) + ") ends it sooner)"
                        : "";
            }
        } catch (SQLException e) {
            return "";
        }
    }
}
