package dev.sluice.engine;

import java.sql.SQLException;

import com.zaxxer.hikari.SQLExceptionOverride;

import org.postgresql.util.PSQLException;

/**
 * For HikariCP pools: an error the server reported in a complete answer ("feature not supported", SQLSTATE 0A000,
 * which a set-returning function in a WHERE clause raises) leaves the connection sound. HikariCP's default takes
 * 0A000 for a broken connection and closes it under the caller's transaction. Connection losses (class 08, the
 * server shutting down) still evict.
 */
public final class ServerErrorsKeepConnections implements SQLExceptionOverride {

    @java.lang.Override
    public Override adjudicate(SQLException e) {
        String state = e.getSQLState();
        if (e instanceof PSQLException p
                && p.getServerErrorMessage() != null
                && state != null
                && !state.startsWith("08")
                && !state.startsWith("57P")) {
            return Override.DO_NOT_EVICT;
        }
        return Override.CONTINUE_EVICT;
    }
}
