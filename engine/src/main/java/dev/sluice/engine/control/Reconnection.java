package dev.sluice.engine.control;

import java.io.EOFException;
import java.net.SocketException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.Set;

import javax.sql.DataSource;

import dev.sluice.engine.StopSignal;
import dev.sluice.engine.chunk.Failures;

import io.github.resilience4j.core.IntervalFunction;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rides a runner through a lost database: a restarted server, a failover behind the same URL, a dropped
 * connection. Whatever statement noticed the loss (a chunk, the job repository's bookkeeping, the runner lock), the
 * runner's attempt ends; this waits, with exponential backoff and jitter, until the database answers again or
 * {@code timeouts.reconnect} has passed since the loss, and the runner starts over from its last committed
 * checkpoint, after taking the job's lock again (the old lock died with its session).
 */
public final class Reconnection {

    private static final Logger LOG = LoggerFactory.getLogger(Reconnection.class);
    // A server restart takes a second or two, a failover tens of seconds: start retrying soon, back off to a
    // probe every few seconds, and jitter so that many runners do not come back in lockstep.
    static final Duration FIRST_WAIT = Duration.ofMillis(250);
    static final Duration MAX_WAIT = Duration.ofSeconds(5);
    static final double JITTER = 0.5;
    // A probe's own wait for a connection: short, so that the deadline is honoured within a few seconds.
    static final int PROBE_TIMEOUT_SECONDS = 5;

    private static final Set<String> SERVER_GOING_AWAY = Set.of(
            "57P01", // admin_shutdown: the server is shutting down or restarting
            "57P02", // crash_shutdown: another backend crashed, the server restarts
            "57P03"); // cannot_connect_now: the server is starting up

    /** Told when the runner loses the database. */
    @FunctionalInterface
    public interface Listener {
        Listener NONE = (why, attempt, limit) -> {};

        /** The database was lost ({@code attempt} counts from 1); the runner tries again for up to {@code limit}. */
        void reconnecting(String why, int attempt, Duration limit);
    }

    /** The database did not come back in time, or the runner was asked to stop while waiting. */
    public static final class GaveUp extends Exception {
        private final boolean stopped;

        GaveUp(String message, boolean stopped) {
            super(message);
            this.stopped = stopped;
        }

        /** Whether an operator or a signal asked the runner to stop while it waited. */
        public boolean stopped() {
            return stopped;
        }
    }

    private final DataSource dataSource;
    private final Duration limit;
    private final StopSignal stop;
    private final Listener listener;
    private final Runnable found;
    private final IntervalFunction backoff =
            IntervalFunction.ofExponentialRandomBackoff(FIRST_WAIT, 2.0, JITTER, MAX_WAIT);
    private int reconnects;

    public Reconnection(DataSource dataSource, Duration limit, StopSignal stop, Listener listener) {
        this(dataSource, limit, stop, listener, () -> {});
    }

    /** @param found told when the database answers again (before the runner goes on) */
    public Reconnection(DataSource dataSource, Duration limit, StopSignal stop, Listener listener, Runnable found) {
        this.dataSource = dataSource;
        this.limit = limit;
        this.stop = stop;
        this.listener = listener;
        this.found = found;
    }

    /** Whether {@code failure} means the database (or the connection to it) went away, rather than a bad statement. */
    public static boolean isLost(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof RunnerLock.Lost
                    || t instanceof SQLTransientConnectionException
                    || t instanceof SQLNonTransientConnectionException
                    || t instanceof SQLRecoverableException
                    || t instanceof SocketException
                    || t instanceof EOFException) {
                return true;
            }
            if (t instanceof SQLException e
                    && e.getSQLState() != null
                    && (e.getSQLState().startsWith("08") || SERVER_GOING_AWAY.contains(e.getSQLState()))) {
                return true;
            }
        }
        return false;
    }

    /** How many times the runner has reconnected so far. */
    public int reconnects() {
        return reconnects;
    }

    /**
     * Waits until the database answers again.
     *
     * @param why what showed the loss, in one line
     * @throws GaveUp if {@code timeouts.reconnect} passes first, or a stop is requested
     */
    public void await(String why) throws GaveUp {
        LOG.warn(
                "lost the database ({}); reconnecting for up to {} s, then continuing from the last committed"
                        + " checkpoint",
                why,
                limit.toSeconds());
        await(why, System.nanoTime());
    }

    /**
     * Waits until the database answers again, for up to {@code timeouts.reconnect} from {@code since}, when the loss
     * was noticed (and said) already.
     *
     * @param since when the loss was noticed ({@link System#nanoTime})
     */
    public void awaitNoticed(String why, long since) throws GaveUp {
        LOG.warn(
                "reconnecting for up to {} s from the loss, then continuing from the last committed checkpoint",
                limit.toSeconds());
        await(why, since);
    }

    private void await(String why, long since) throws GaveUp {
        long deadline = since + limit.toNanos();
        reconnects++;
        listener.reconnecting(why, reconnects, limit);
        for (int attempt = 1; ; attempt++) {
            sleep(Math.min(backoff.apply(attempt), Math.max(0, (deadline - System.nanoTime()) / 1_000_000)));
            String problem = probe();
            if (problem == null) {
                LOG.info("database answers again after {} attempt(s)", attempt);
                found.run();
                return;
            }
            if (stop.requested()) {
                throw new GaveUp(
                        "stopped while reconnecting (" + stop.reason() + "); the job resumes from its last"
                                + " committed checkpoint",
                        true);
            }
            if (System.nanoTime() >= deadline) {
                throw new GaveUp(
                        "lost the database and could not reconnect within " + limit.toSeconds() + " s: " + problem,
                        false);
            }
        }
    }

    /** Null if the database answers, else why not. */
    private String probe() {
        try (Connection c = dataSource.getConnection()) {
            return c.isValid(PROBE_TIMEOUT_SECONDS) ? null : "the connection is not valid";
        } catch (SQLException e) {
            return Failures.describe(e);
        }
    }

    private void sleep(long millis) throws GaveUp {
        if (!stop.sleepUntil(System.nanoTime() + millis * 1_000_000)) {
            throw new GaveUp(
                    "stopped while reconnecting (" + (stop.requested() ? stop.reason() : "interrupted")
                            + "); the job resumes from its last committed checkpoint",
                    true);
        }
    }
}
