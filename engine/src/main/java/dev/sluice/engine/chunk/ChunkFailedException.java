package dev.sluice.engine.chunk;

import java.sql.SQLException;

import dev.sluice.engine.KeyRange;

/**
 * A chunk's statements failed; its transaction rolls back with its checkpoint. Unchecked on purpose: TaskletStep
 * rolls back only on unchecked exceptions and would commit around a checked one.
 */
public class ChunkFailedException extends RuntimeException {

    private final transient KeyRange range;

    public ChunkFailedException(KeyRange range, SQLException cause) {
        super(message(range, cause), cause);
        this.range = range;
    }

    /** The range being applied, or null if the failure came before it was found. */
    public KeyRange range() {
        return range;
    }

    public String sqlState() {
        return ((SQLException) getCause()).getSQLState();
    }

    private static String message(KeyRange range, SQLException e) {
        return (range == null ? "finding the next chunk" : "chunk " + range) + " failed: " + Failures.database(e);
    }
}
