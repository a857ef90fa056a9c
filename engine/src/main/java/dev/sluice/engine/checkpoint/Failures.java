package dev.sluice.engine.checkpoint;

import java.sql.SQLException;

/** One line for an operator about why a chunk or job failed: the database's words, not a stack trace. */
public final class Failures {

    private Failures() {
    }

    public static String describe(Throwable failure) {
        Throwable sql = null;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ChunkFailedException) {
                return t.getMessage();
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
        return line;
    }
}
