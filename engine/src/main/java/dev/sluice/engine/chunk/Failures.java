package dev.sluice.engine.chunk;

import java.sql.SQLException;

import dev.sluice.engine.spec.Secrets;
import dev.sluice.engine.spi.TeamJars;

/**
 * One line for an operator about why something failed: the database's own words and SQLSTATE, not a stack trace,
 * and never a password (the line is shown, logged, and kept in the job repository). The one place an exception
 * becomes a line.
 */
public final class Failures {

    private Failures() {}

    /** The failure in one line: a chunk's own message, else the deepest database error's, else the exception's. */
    public static String describe(Throwable failure) {
        SQLException sql = null;
        Throwable last = failure;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ChunkFailedException) {
                return Secrets.redact(t.getMessage());
            }
            if (t instanceof SQLException e) {
                sql = e;
            }
            if (t instanceof LinkageError) { // a transformer's jar: a class missing, a static initializer that threw
                return Secrets.redact(TeamJars.describe(t));
            }
            last = t;
        }
        if (sql != null) {
            return database(sql);
        }
        Throwable shown = failure.getMessage() != null ? failure : last;
        return Secrets.redact(firstLine(shown.getMessage() == null ? shown.toString() : shown.getMessage()));
    }

    /** A database error in one line: the server's message (without its "ERROR:" prefix) and its SQLSTATE. */
    public static String database(SQLException e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        String line = firstLine(message).replaceFirst("^(ERROR|FATAL): ", "");
        return Secrets.redact(e.getSQLState() == null ? line : line + " [SQLSTATE " + e.getSQLState() + "]");
    }

    /**
     * The first line of a text, without the exception class a stored stack trace begins with
     * ({@code java.lang.IllegalStateException: message} becomes {@code message}); null for none.
     */
    public static String firstLine(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        String line = text.lines().findFirst().orElse(text);
        int colon = line.indexOf(": ");
        return colon > 0 && line.substring(0, colon).matches("[\\w.$]+\\.[\\w$]+") ? line.substring(colon + 2) : line;
    }
}
