package dev.sluice.engine.chunk;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

import javax.sql.DataSource;

import dev.sluice.engine.Key;
import dev.sluice.engine.KeyRange;
import dev.sluice.engine.keyset.Chunker;
import dev.sluice.engine.keyset.KeySplits;

/**
 * The keys of the table, or of one key range of it (a partition), found where the table is: in the chunk's own
 * transaction, or, for a copy from another database, on a connection to that database.
 */
public final class KeysetSource implements ChunkLoop.Source {

    private final Chunker chunker;
    private final KeySplits splits;
    private final DataSource elsewhere;
    private final Key hi;

    /** @param elsewhere the source database of a cross-database copy, or null when the table is in the target */
    public KeysetSource(Chunker chunker, KeySplits splits, DataSource elsewhere) {
        this(chunker, splits, elsewhere, null);
    }

    private KeysetSource(Chunker chunker, KeySplits splits, DataSource elsewhere, Key hi) {
        this.chunker = chunker;
        this.splits = splits;
        this.elsewhere = elsewhere;
        this.hi = hi;
    }

    @Override
    public KeyRange next(Connection c, Key after, int rows) throws SQLException {
        if (elsewhere == null) {
            return chunker.next(c, after, hi, rows);
        }
        try (Connection source = elsewhere.getConnection()) {
            return chunker.next(source, after, hi, rows);
        }
    }

    @Override
    public KeyRange next(Connection c, Key after, int rows, ChunkTimeouts.Opening opening) throws SQLException {
        if (elsewhere != null || opening.sql() == null) {
            return ChunkLoop.Source.super.next(c, after, rows, opening);
        }
        return chunker.next(c, after, hi, rows, opening);
    }

    @Override
    public List<List<Key>> cuts(Connection c, List<KeyRange> intervals, int parts) throws SQLException {
        if (elsewhere == null) {
            return splits.cuts(c, intervals, parts);
        }
        try (Connection source = elsewhere.getConnection()) {
            return splits.cuts(source, intervals, parts);
        }
    }

    @Override
    public ChunkLoop.Source upTo(Key bound) {
        return new KeysetSource(chunker, splits, elsewhere, bound);
    }
}
