package dev.sluice.engine.chunk;

import java.sql.SQLException;
import java.util.Set;

/**
 * Which database errors are worth retrying in place, on a new connection from the same runner: the ones that say
 * "not now" rather than "never". A lost connection or a restarting server is not among them: the runner's lock went
 * with it, so the runner reconnects and takes its lock again first ({@code control.Reconnection}). Anything else (a
 * constraint violation, a type error, a trigger's exception) fails the job at once, with its checkpoint intact, for
 * a person to look at.
 */
public final class TransientErrors {

    /**
     * lock_not_available: a {@code lock_timeout} ran out (ours, in a chunk or a lock-safe DDL step). Named here once,
     * because pgJDBC's {@code PSQLState} has no constant for it.
     */
    public static final String LOCK_NOT_AVAILABLE = "55P03";

    private static final Set<String> RETRYABLE = Set.of(
            "40001", // serialization_failure
            "40P01", // deadlock_detected
            LOCK_NOT_AVAILABLE, // our lock_timeout
            "57014", // query_canceled: our statement_timeout
            "54000"); // program_limit_exceeded: the chunk's data passed a limit (a 1 GB array of pre-images, say)

    private TransientErrors() {}

    /** The first SQLException in the cause chain whose state is transient, or null. */
    public static SQLException find(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof SQLException e && e.getSQLState() != null && RETRYABLE.contains(e.getSQLState())) {
                return e;
            }
        }
        return null;
    }

    /**
     * Whether a smaller chunk may succeed: after our own lock or statement timeout, or a limit the chunk's data passed
     * (an undo journal entry's arrays are bounded by 1 GB, which a chunk of very large values can reach).
     */
    public static boolean shrinks(SQLException e) {
        return LOCK_NOT_AVAILABLE.equals(e.getSQLState())
                || "57014".equals(e.getSQLState())
                || "54000".equals(e.getSQLState());
    }
}
