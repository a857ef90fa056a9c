package dev.sluice.engine.chunk;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;

/**
 * {@code SET LOCAL lock_timeout} and {@code statement_timeout} for the chunk's transaction, so that a chunk
 * blocked behind another session's lock gives way after the lock timeout instead of queueing everyone behind it.
 */
public final class ChunkTimeouts {

    private static final String SET_LOCAL =
            "SELECT set_config('lock_timeout', ?, true), set_config('statement_timeout', ?, true)";

    private final String lock;
    private final String statement;

    public ChunkTimeouts(Duration lock, Duration statement) {
        this.lock = lock.toMillis() + "ms";
        this.statement = statement.toMillis() + "ms";
    }

    /** Applies both timeouts until the end of the current transaction. */
    public void apply(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SET_LOCAL)) {
            ps.setString(1, lock);
            ps.setString(2, statement);
            ps.execute();
        }
    }
}
