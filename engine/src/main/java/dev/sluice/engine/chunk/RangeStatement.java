package dev.sluice.engine.chunk;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.function.Function;

import dev.sluice.engine.KeyRange;
import dev.sluice.engine.keyset.Keyset;

/**
 * A set-based write whose only parameters are a key range's bounds, built once in each of its shapes (the first
 * range has no lower bound; see {@link Keyset#shape}) rather than once per chunk.
 */
final class RangeStatement {

    private final Keyset keyset;
    private final String[] shapes;
    private final int uses;

    /** @param shape the statement for a range predicate ({@link Keyset#rangePredicate}), which it holds once */
    RangeStatement(Keyset keyset, Function<String, String> shape) {
        this(keyset, shape, 1);
    }

    /** @param uses how many times {@code shape} holds the range predicate: each is bound in turn */
    RangeStatement(Keyset keyset, Function<String, String> shape, int uses) {
        this.keyset = keyset;
        this.shapes = new String[keyset.shapes()];
        for (int i = 0; i < shapes.length; i++) {
            shapes[i] = shape.apply(keyset.rangePredicate(i, (String) null));
        }
        this.uses = uses;
    }

    long execute(Connection c, KeyRange range) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql(keyset.shape(range)))) {
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
        try (PreparedStatement ps = c.prepareStatement(sql(keyset.shape(range)))) {
            bind(ps, range);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    /** Runs a statement that returns one row of two counts. */
    long[] counts(Connection c, KeyRange range) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql(keyset.shape(range)))) {
            bind(ps, range);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new long[] {rs.getLong(1), rs.getLong(2)};
            }
        }
    }

    /** The statement for a range of shape {@code shape} ({@link Keyset#shape}). */
    String sql(int shape) {
        return shapes[shape];
    }
}
