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

    /** How the statement's own result is read. */
    @FunctionalInterface
    private interface Result<T> {
        T read(PreparedStatement ps) throws SQLException;
    }

    /** Runs a statement that returns its update count. */
    long execute(Connection c, KeyRange range) throws SQLException {
        return execute(c, range, null);
    }

    /** {@link #execute(Connection, KeyRange)}, then {@code wal} (if not null) in the same round trip. */
    long execute(Connection c, KeyRange range, ChunkTimeouts.WalSince wal) throws SQLException {
        return run(c, range, wal, PreparedStatement::getLargeUpdateCount);
    }

    /** Runs a statement that returns one row with a count (a journaled write), or none when it wrote nothing. */
    long count(Connection c, KeyRange range, ChunkTimeouts.WalSince wal) throws SQLException {
        return run(c, range, wal, ps -> {
            try (ResultSet rs = ps.getResultSet()) {
                return rs.next() ? rs.getLong(1) : 0L;
            }
        });
    }

    /** Runs a statement that returns one row of two counts. */
    long[] counts(Connection c, KeyRange range, ChunkTimeouts.WalSince wal) throws SQLException {
        return run(c, range, wal, ps -> {
            try (ResultSet rs = ps.getResultSet()) {
                rs.next();
                return new long[] {rs.getLong(1), rs.getLong(2)};
            }
        });
    }

    /**
     * Runs the statement for {@code range} and reads its result; then {@code wal}'s statement, sent with it (pgJDBC
     * sends the statements of one text before it waits for the first answer) where {@code wal} can be.
     */
    private <T> T run(Connection c, KeyRange range, ChunkTimeouts.WalSince wal, Result<T> result) throws SQLException {
        boolean together = wal != null && wal.sql() != null;
        String sql = sql(keyset.shape(range));
        T value;
        try (PreparedStatement ps = c.prepareStatement(together ? sql + ";\n" + wal.sql() : sql)) {
            int next = bind(ps, range);
            if (together) {
                wal.bind(ps, next);
            }
            ps.execute();
            value = result.read(ps);
            if (together) {
                ps.getMoreResults();
                wal.readFrom(ps);
            }
        }
        if (wal != null && !together) {
            wal.run(c);
        }
        return value;
    }

    private int bind(PreparedStatement ps, KeyRange range) throws SQLException {
        int next = 1;
        for (int i = 0; i < uses; i++) {
            next = keyset.bind(ps, next, range);
        }
        return next;
    }

    /** The statement for a range of shape {@code shape} ({@link Keyset#shape}). */
    String sql(int shape) {
        return shapes[shape];
    }
}
