package dev.sluice.engine.checkpoint;

import java.sql.SQLException;

import dev.sluice.engine.spec.Secrets;

/**
 * One line for an operator about why a chunk or job failed: the database's words, not a stack trace, and never a
 * password (the line is kept in the job repository and shown by status).
 */
public final class Failures {

    private Failures() {
    }

    public static String describe(Throwable failure) {
        Throwable sql = null;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ChunkFailedException) {
                return Secrets.redact(t.getMessage());
            }
            if (t instanceof SQLException) {
                sql = t;
            }
        }
        Throwable reported = sql != null ? sql : failure;
        String message = reported.getMessage() == null ? reported.toString() : reported.getMessage();
        String line = message.lines().findFirst().orElse(message).replaceFirst("^ERROR: ", "");
        if (sql != null && ((SQLException) sql).getSQLState() != null) {
            line += " [SQLSTATE " + ((SQLException) sql).getSQLState() + "]";
        }
        return Secrets.redact(line);
    }
}
