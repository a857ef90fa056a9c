package dev.sluice.engine.control;

import java.io.IOException;
import java.net.InetAddress;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import dev.sluice.engine.JobStatus;
import dev.sluice.engine.keyset.Sql;

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
    private volatile long verifiedAt = System.nanoTime();

    private RunnerLock(Connection connection, String job) {
        this.connection = connection;
        this.job = job;
    }

    // The lock's session names its process, so that status (and a DBA's pg_stat_activity) shows who runs the job:
    // "sluice runner pid=4242 host=batch-1", within application_name's 63 bytes.
    private static final String NAME_PREFIX = "sluice runner pid=";
    private static final Pattern NAME = Pattern.compile("sluice runner pid=(\\d+)(?: host=(\\S+))?");
    private static final int MAX_APPLICATION_NAME = 63;

    /** @return the lock, or null if another session holds it */
    public static RunnerLock tryAcquire(DataSource dataSource, String job) throws SQLException {
        Connection c = dataSource.getConnection();
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_lock(" + KEY + ")")) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getBoolean(1)) {
                    name(c);
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

    private static void name(Connection c) throws SQLException {
        nameSession(c, NAME_PREFIX);
    }

    /**
     * Names the session after this process ({@code prefix} then its pid and host, within application_name's 63 bytes),
     * so that status and a DBA's pg_stat_activity show who holds a lock.
     */
    static void nameSession(Connection c, String prefix) throws SQLException {
        String host = host();
        String name = prefix + ProcessHandle.current().pid() + (host == null ? "" : " host=" + host);
        try (PreparedStatement ps = c.prepareStatement("SELECT set_config('application_name', ?, false)")) {
            ps.setString(1, name.length() > MAX_APPLICATION_NAME ? name.substring(0, MAX_APPLICATION_NAME) : name);
            ps.execute();
        }
    }

    /** This machine's name, or null where it cannot be found. */
    static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return null;
        }
    }

    /** The runner that holds the job's lock, if any: its backend, and the process its session names. */
    public static Optional<JobStatus.Runner> holder(Connection c, String job) throws SQLException {
        String sql = "SELECT l.pid, a.application_name FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
                + " WHERE " + Sql.advisoryLockHeld("l", KEY);
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                Matcher m = NAME.matcher(String.valueOf(rs.getString(2)));
                boolean named = m.matches();
                return Optional.of(new JobStatus.Runner(
                        named ? Long.valueOf(m.group(1)) : null, named ? m.group(2) : null, rs.getInt(1)));
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
    public synchronized void verify() {
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

    // How often the watch asks the lock's session whether it is alive, and how long the server may take to answer:
    // a lost database is noticed within about two seconds, for a round trip a second.
    private static final long WATCH_EVERY_MILLIS = 1000;
    private static final int WATCH_TIMEOUT_SECONDS = 2;

    /**
     * Watches the lock's session from a thread of its own, so that a lost database (a stopped or restarted server, a
     * failover, a broken connection) is noticed within seconds whatever the runner is doing: waiting for its turn, for
     * a connection from the pool, for a statement. {@code lost} is told once, with why, on the watch's thread.
     *
     * @return closing it stops the watch
     */
    public Watch watch(Consumer<String> lost) {
        Thread t = new Thread(
                () -> {
                    while (!Thread.currentThread().isInterrupted()) {
                        try {
                            Thread.sleep(WATCH_EVERY_MILLIS);
                        } catch (InterruptedException e) {
                            return;
                        }
                        String why = null;
                        try {
                            if (!connection.isValid(WATCH_TIMEOUT_SECONDS)) {
                                why = "the runner lock's session did not answer within " + WATCH_TIMEOUT_SECONDS + " s";
                            }
                        } catch (SQLException e) {
                            why = e.getMessage();
                        }
                        if (why != null && !Thread.currentThread().isInterrupted()) {
                            lost.accept(why);
                            return;
                        }
                    }
                },
                "sluice-lock-watch-" + job);
        t.setDaemon(true);
        t.start();
        return t::interrupt;
    }

    /** A watch over the lock's session; closing it stops the watch. */
    public interface Watch extends AutoCloseable {
        @Override
        void close();
    }

    /** Releases the lock; a lock whose session is already gone was released by PostgreSQL with it. */
    @Override
    public void close() {
        try (connection;
                PreparedStatement ps = connection.prepareStatement("SELECT pg_advisory_unlock(" + KEY + ")")) {
            ps.setString(1, job);
            ps.execute();
            try (PreparedStatement reset = connection.prepareStatement("RESET application_name")) {
                reset.execute(); // back to the pool's own name
            }
        } catch (SQLException e) {
            // The session ended, and the lock with it.
        }
    }
}
