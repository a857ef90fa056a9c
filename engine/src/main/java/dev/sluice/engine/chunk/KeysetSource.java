package dev.sluice.engine.chunk;

import java.sql.Connection;
import java.sql.SQLException;

import javax.sql.DataSource;

import dev.sluice.engine.keyset.Chunker;
import dev.sluice.engine.keyset.Key;
import dev.sluice.engine.keyset.KeyRange;

/**
 * The keys of the whole table, found where the table is: in the chunk's own transaction, or, for a copy from another
 * database, on a connection to that database.
 */
public final class KeysetSource implements ChunkLoop.Source {

    private final Chunker chunker;
    private final DataSource elsewhere;

    /** @param elsewhere the source database of a cross-database copy, or null when the table is in the target */
    public KeysetSource(Chunker chunker, DataSource elsewhere) {
        this.chunker = chunker;
        this.elsewhere = elsewhere;
    }

    @Override
    public KeyRange next(Connection c, Key after, int rows) throws SQLException {
        if (elsewhere == null) {
            return chunker.next(c, after, rows);
        }
        try (Connection source = elsewhere.getConnection()) {
            return chunker.next(source, after, rows);
        }
    }
}
