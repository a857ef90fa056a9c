package dev.sluice.engine.preflight;

import java.sql.SQLException;

import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/** The server's own one-line message for an error, without the driver's decorations. */
final class ServerMessages {

    private ServerMessages() {}

    static String of(SQLException e) {
        if (e instanceof PSQLException p) {
            ServerErrorMessage m = p.getServerErrorMessage();
            if (m != null && m.getMessage() != null) {
                return m.getMessage();
            }
        }
        String text = e.getMessage() == null ? e.toString() : e.getMessage();
        return text.lines().findFirst().orElse(text).replaceFirst("^ERROR: ", "");
    }
}
