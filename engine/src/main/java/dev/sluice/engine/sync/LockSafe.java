package dev.sluice.engine.sync;

import static dev.sluice.engine.chunk.TransientErrors.LOCK_NOT_AVAILABLE;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import javax.sql.DataSource;

import dev.sluice.engine.chunk.Transaction;

import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;

/**
 * Runs DDL that takes a table lock the application's writes conflict with (CREATE or DROP TRIGGER) without ever
 * queueing the application behind it for long: each attempt is one short transaction under {@code SET LOCAL
 * lock_timeout}, never without one; a lock not granted in time rolls the attempt back, and the next attempt waits
 * longer, up to a cap, after a pause with jitter (Resilience4j Retry). While an attempt waits in the lock queue,
 * the application's statements on the table wait behind it, but never longer than that attempt's timeout.
 */
public final class LockSafe {

    /** What one attempt runs, in its transaction. */
    @FunctionalInterface
    public interface Work {
        void run(Connection c) throws SQLException;
    }

    /** Every attempt timed out: someone held a conflicting lock the whole time. */
    public static final class NotGranted extends Exception {
        NotGranted(String message) {
            super(message);
        }
    }

    // From 100 ms (a moment nobody notices) doubling to 5 s (the longest an application request should ever stall
    // behind us), ten attempts: about 26 s of waiting in all, enough to find a gap between ordinary transactions,
    // short enough that a lock held by a stuck session fails the job quickly with its reason.
    static final Duration FIRST_TIMEOUT = Duration.ofMillis(100);
    static final Duration MAX_TIMEOUT = Duration.ofSeconds(5);
    static final int ATTEMPTS = 10;
    // Between attempts the lock queue drains: the application's waiting statements run before we queue again.
    static final Duration FIRST_PAUSE = Duration.ofMillis(100);
    static final Duration MAX_PAUSE = Duration.ofSeconds(2);
    // Jitter: runners of several jobs retrying on one table should not queue in lockstep.
    static final double JITTER = 0.2;

    private final Duration firstTimeout;
    private final Duration maxTimeout;
    private final int attempts;
    private final Consumer<String> warn;

    public LockSafe(Consumer<String> warn) {
        this(FIRST_TIMEOUT, ATTEMPTS, warn);
    }

    LockSafe(Duration firstTimeout, int attempts, Consumer<String> warn) {
        this(firstTimeout, MAX_TIMEOUT, attempts, warn);
    }

    /**
     * @param firstTimeout the first attempt's lock timeout
     * @param maxTimeout   the longest any attempt waits (so the longest an application statement queues behind it)
     */
    public LockSafe(Duration firstTimeout, Duration maxTimeout, int attempts, Consumer<String> warn) {
        this.firstTimeout = firstTimeout.compareTo(maxTimeout) > 0 ? maxTimeout : firstTimeout;
        this.maxTimeout = maxTimeout;
        this.attempts = attempts;
        this.warn = warn;
    }

    /** The lock timeout of attempt {@code n} (1-based): doubling from the first, capped, with jitter. */
    Duration timeout(int n) {
        long base = Math.min(maxTimeout.toMillis(), firstTimeout.toMillis() << Math.min(20, n - 1));
        double jitter = 1 + ThreadLocalRandom.current().nextDouble(-JITTER, JITTER);
        return Duration.ofMillis(Math.max(1, Math.min(maxTimeout.toMillis(), Math.round(base * jitter))));
    }

    /** Runs {@code statements} in one transaction, retried while the lock is not granted. */
    public void run(DataSource dataSource, String what, List<String> statements) throws SQLException, NotGranted {
        run(dataSource, what, statements(statements));
    }

    /** Work that runs {@code statements}, one after the other. */
    public static Work statements(List<String> statements) {
        return c -> {
            try (Statement st = c.createStatement()) {
                for (String sql : statements) {
                    st.execute(sql);
                }
            }
        };
    }

    /**
     * Runs {@code work} in one transaction, retried while the lock is not granted.
     *
     * @param what the table whose lock is taken, for messages
     * @throws NotGranted when no attempt got the lock
     */
    public void run(DataSource dataSource, String what, Work work) throws SQLException, NotGranted {
        retried(dataSource, what, (timeout) -> once(dataSource, work, timeout));
    }

    /**
     * Runs {@code work} outside a transaction block (what {@code CREATE INDEX CONCURRENTLY} needs), the session's
     * {@code lock_timeout} set for each attempt and its {@code statement_timeout} lifted (the work scans a table
     * without blocking its writers), retried while the lock is not granted. The session's settings are put back
     * before the connection goes back to its pool.
     */
    public void runOutsideTransaction(DataSource dataSource, String what, Work work) throws SQLException, NotGranted {
        retried(dataSource, what, timeout -> {
            try (Connection c = dataSource.getConnection()) {
                boolean autoCommit = c.getAutoCommit();
                c.setAutoCommit(true);
                try (Statement st = c.createStatement()) {
                    st.execute("SET lock_timeout = '" + timeout.toMillis() + "ms'");
                    st.execute("SET statement_timeout = 0");
                    work.run(c);
                } finally {
                    try (Statement st = c.createStatement()) {
                        st.execute("RESET lock_timeout");
                        st.execute("RESET statement_timeout");
                    }
                    c.setAutoCommit(autoCommit);
                }
            }
        });
    }

    private interface Attempt {
        void run(Duration lockTimeout) throws SQLException;
    }

    private void retried(DataSource dataSource, String what, Attempt once) throws SQLException, NotGranted {
        AtomicInteger attempt = new AtomicInteger();
        Retry retry = Retry.of(
                "lock-safe " + what,
                RetryConfig.custom()
                        .maxAttempts(attempts)
                        .intervalFunction(
                                IntervalFunction.ofExponentialRandomBackoff(FIRST_PAUSE, 2.0, JITTER, MAX_PAUSE))
                        .retryOnException(
                                e -> e instanceof SQLException s && LOCK_NOT_AVAILABLE.equals(s.getSQLState()))
                        .build());
        try {
            Retry.decorateCheckedRunnable(retry, () -> {
                        int n = attempt.incrementAndGet();
                        Duration timeout = timeout(n);
                        try {
                            once.run(timeout);
                        } catch (SQLException e) {
                            if (LOCK_NOT_AVAILABLE.equals(e.getSQLState()) && n < attempts) {
                                warn.accept("lock on " + what + " not granted within " + timeout.toMillis()
                                        + " ms (attempt " + n + " of " + attempts
                                        + "); the application was not held up longer, retrying");
                            }
                            throw e;
                        }
                    })
                    .run();
        } catch (SQLException e) {
            if (LOCK_NOT_AVAILABLE.equals(e.getSQLState())) {
                throw new NotGranted("could not lock " + what + " in " + attempts + " attempts (lock_timeout "
                        + firstTimeout.toMillis()
                        + " ms up to " + maxTimeout.toMillis() + " ms): another session holds a conflicting lock"
                        + holders(dataSource, what));
            }
            throw e;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static void once(DataSource dataSource, Work work, Duration lockTimeout) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            Transaction.run(c, tx -> {
                try (Statement st = tx.createStatement()) {
                    st.execute("SET LOCAL lock_timeout = '" + lockTimeout.toMillis() + "ms'");
                    // The DDL itself is quick once the lock is granted; this bounds anything unforeseen.
                    st.execute("SET LOCAL statement_timeout = '" + (lockTimeout.toMillis() + 30_000) + "ms'");
                }
                work.run(tx);
                return null;
            });
        }
    }

    /**
     * Who holds locks on the table now, for the message: " (pid 123, idle in transaction for 12 s, application 'psql',
     * holds AccessExclusiveLock)". Never their statements' text, which may carry anything.
     */
    private static String holders(DataSource dataSource, String table) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("""
                     SELECT a.pid, a.state, extract(epoch FROM now() - a.xact_start)::bigint, a.application_name, l.mode
                     FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                     WHERE l.relation = to_regclass(?) AND l.granted AND a.pid <> pg_backend_pid()
                     ORDER BY a.xact_start LIMIT 3""")) {
            ps.setString(1, table);
            StringBuilder sb = new StringBuilder();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    sb.append(sb.isEmpty() ? " (" : "; ")
                            .append("pid ")
                            .append(rs.getInt(1))
                            .append(", ")
                            .append(rs.getString(2))
                            .append(" for ")
                            .append(rs.getLong(3))
                            .append(" s")
                            .append(
                                    rs.getString(4) == null || rs.getString(4).isEmpty()
                                            ? ""
                                            : ", application '" + rs.getString(4) + "'")
                            .append(", holds ")
                            .append(rs.getString(5));
                }
            }
            return sb.isEmpty() ? "" : sb.append(")").toString();
        } catch (SQLException e) {
            return "";
        }
    }
}
