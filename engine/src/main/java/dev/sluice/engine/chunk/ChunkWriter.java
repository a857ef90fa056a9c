package dev.sluice.engine.chunk;

import java.sql.Connection;
import java.sql.SQLException;

import dev.sluice.engine.KeyRange;

/**
 * Applies a job's transformation to one key range, set-based, inside the caller's transaction (which also
 * carries the checkpoint). Implementations hold no state between chunks.
 */
public interface ChunkWriter {

    /** Writes nothing: for chunk work that only reads (validation). */
    ChunkWriter READ_ONLY = new ChunkWriter() {
        @Override
        public long write(Connection c, KeyRange range) {
            return 0;
        }

        @Override
        public String sql(int shape) {
            return "(reads only)";
        }
    };

    /**
     * Whether the write joins a list of keys to the table (rather than reading a key range from it): its chunk then
     * plans nested loops through the key's index only ({@link ChunkTimeouts}).
     */
    default boolean joinsKeys() {
        return false;
    }

    /** @return how many rows were written */
    long write(Connection c, KeyRange range) throws SQLException;

    /**
     * {@link #write(Connection, KeyRange)}, then {@code wal} measured: sent after the write in the same round trip
     * where the writer can, run on its own otherwise.
     */
    default long write(Connection c, KeyRange range, ChunkTimeouts.WalSince wal) throws SQLException {
        long written = write(c, range);
        wal.run(c);
        return written;
    }

    /**
     * The statement(s) {@link #write} runs for a range of shape {@code shape} ({@link dev.sluice.engine.keyset.Keyset#shape}),
     * with {@code ?} for the range bounds, for {@code plan}.
     */
    String sql(int shape);

    /**
     * The statement {@code plan} explains: one statement whose only parameters are the range bounds. The write
     * statement itself for most writers; the read for writers whose write takes other parameters.
     */
    default String explainable(int shape) {
        return sql(shape);
    }
}
