package dev.sluice.engine.chunk;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.function.Function;

import dev.sluice.engine.keyset.KeyRange;
import dev.sluice.engine.keyset.Keyset;

/**
 * A set-based write whose only parameters are a key range's bounds, built once in its two shapes (the first
 * range has no lower bound) rather than once per chunk.
 */
final class RangeStatement {

    private final Keyset keyset;
    private final String fromStart;
    private final String after;
    private final int uses;

    /** @param shape the statement for a range predicate ({@link Keyset#rangePredicate}), which it holds once */
    RangeStatement(Keyset keyset, Function<String, String> shape) {
        this(keyset, shape, 1);
    }

    /** @param uses how many times {@code shape} holds the range predicate: each is bound in turn */
    RangeStatement(Keyset keyset, Function<String, String> shape, int uses) {
        this.keyset = keyset;
        this.fromStart = shape.apply(keyset.rangePredicate(true));
        this.after = shape.apply(keyset.rangePredicate(false));
        this.uses = uses;
    }

    long execute(Connection c, KeyRange range) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql(range.lo() == null))) {
            bind(ps, range);
            return ps.executeLargeUpdate();
        }
    }

    private void bind(PreparedStatement ps, KeyRange range) throws SQLException {
        int next = 1;
        for (int i = 0; i < uses; i++) {
            next = keyset.bind(ps, next, range);
        }
    }

    /** Runs a statement that returns one row with a count (a journaled write), or none when it wrote nothing. */
    long count(Connection c, KeyRange range) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql(range.lo() == null))) {
            bind(ps, range);
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    String sql(boolean fromTheStart) {
        return fromTheStart ? fromStart : after;
    }
}
