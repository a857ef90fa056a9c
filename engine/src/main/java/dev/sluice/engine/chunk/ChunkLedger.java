package dev.sluice.engine.chunk;

import java.sql.Connection;
import java.sql.SQLException;

import dev.sluice.engine.Key;
import dev.sluice.engine.KeyRange;

/**
 * Work a chunk does besides its write, whose results must be kept exactly once: they go into the chunk's
 * {@link Notes}, which commit with the chunk and its checkpoint. Contract: every statement first, the notes changed
 * last, so that a failure leaves them as they were.
 */
@FunctionalInterface
public interface ChunkLedger {

    ChunkLedger NONE = (c, range, notes) -> {};

    /** Text kept with the checkpoint, saved in the chunk's transaction. */
    interface Notes {
        /** The note, or null. */
        String get(String key);

        void put(String key, String value);
    }

    void apply(Connection c, KeyRange range, Notes notes) throws SQLException;

    /** Whether the ledger's statements join a list of keys to the table (see {@link ChunkWriter#joinsKeys}). */
    default boolean joinsKeys() {
        return false;
    }

    /**
     * After the last range, in the transaction that ends the walk: work on what lies beyond the last key (null
     * when there were no keys at all). Called again if that transaction is lost, so it must record that it ran.
     */
    default void finish(Connection c, Key last, Notes notes) throws SQLException {}
}
