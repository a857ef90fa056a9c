package dev.sluice.engine.checkpoint;

import java.sql.Connection;
import java.sql.SQLException;

import dev.sluice.engine.keyset.Key;
import dev.sluice.engine.keyset.KeyRange;

import org.springframework.batch.infrastructure.item.ExecutionContext;

/**
 * Work a chunk does besides its write, whose results must be kept exactly once: they go into the step's
 * ExecutionContext and so commit with the chunk and its checkpoint. Contract: every statement first, the context
 * changed last, so that a failure leaves the context as it was.
 */
@FunctionalInterface
public interface ChunkLedger {

    ChunkLedger NONE = (c, range, ec) -> { };

    void apply(Connection c, KeyRange range, ExecutionContext ec) throws SQLException;

    /**
     * After the last range, in the transaction that ends the walk: work on what lies beyond the last key (null
     * when there were no keys at all). Called again if that transaction is lost, so it must record that it ran.
     */
    default void finish(Connection c, Key last, ExecutionContext ec) throws SQLException {
    }
}
