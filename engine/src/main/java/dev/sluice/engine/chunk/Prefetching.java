package dev.sluice.engine.chunk;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import javax.sql.DataSource;

import dev.sluice.engine.Key;
import dev.sluice.engine.KeyRange;

/**
 * Java mode with its work overlapped: while a chunk's write runs in the chunk's transaction, the next range is found
 * and its rows read and transformed on another connection, by a thread of this writer's own. The read takes no
 * lock ({@link JavaWriter}'s optimistic write checks, row by row, that nothing changed since), so reading ahead is
 * safe: a row changed in between is written by the locked path instead. What was read ahead is used only if the
 * next chunk starts where it begins (after a failed chunk, a retry starts elsewhere and it is dropped) and its size
 * is near what the sizing asks for now.
 *
 * <p>Rows that enter the range between the read ahead and the write (inserted, or newly matching {@code where}) are
 * not in the chunk: the same as rows inserted behind a chunk that has committed, which {@code sync: trigger} keeps
 * in step (Java mode's key log) and which, without it, the application writes itself.
 */
public final class Prefetching implements ChunkLoop.Source, ChunkWriter, AutoCloseable {

    private final ChunkLoop.Source source;
    private final JavaWriter writer;
    private final DataSource dataSource;
    private final ChunkTimeouts timeouts;
    private final ExecutorService ahead;
    private CompletableFuture<Ahead> next;
    private Ahead taken;

    /** A range found and read ahead of its turn. */
    private record Ahead(Key after, int rows, KeyRange range, JavaWriter.Read read) {}

    /** @param timeouts the chunk's lock and statement timeouts, which the read ahead keeps too */
    public Prefetching(
            ChunkLoop.Source source, JavaWriter writer, DataSource dataSource, ChunkTimeouts timeouts, String name) {
        this.source = source;
        this.writer = writer;
        this.dataSource = dataSource;
        this.timeouts = timeouts;
        this.ahead = Executors.newSingleThreadExecutor(DaemonThreads.named(name));
    }

    @Override
    public KeyRange next(Connection c, Key after, int rows) throws SQLException {
        Ahead a = collect();
        // Near the size asked for: within a factor of two (a chunk cut short by a timeout asks for half or less).
        if (a != null && Objects.equals(a.after(), after) && a.rows() <= 2L * rows && 2L * a.rows() >= rows) {
            taken = a;
            return a.range();
        }
        taken = null;
        return source.next(c, after, rows);
    }

    @Override
    public List<List<Key>> cuts(Connection c, List<KeyRange> intervals, int parts) throws SQLException {
        return source.cuts(c, intervals, parts);
    }

    @Override
    public long write(Connection c, KeyRange range) throws SQLException {
        Ahead a = taken;
        taken = null;
        JavaWriter.Read read = a != null && range.equals(a.range()) ? a.read() : writer.read(c, range);
        int rows = (int) Math.max(1, Math.min(Integer.MAX_VALUE, range.rows()));
        Key after = range.hi();
        next = CompletableFuture.supplyAsync(() -> readAhead(after, rows), ahead);
        return writer.write(c, range, read);
    }

    private Ahead readAhead(Key after, int rows) {
        try (Connection c = dataSource.getConnection()) {
            // A transaction of its own only for the timeouts: a read ahead queued behind another session's lock
            // (a DDL's, say) gives way as the chunk would, instead of holding the runner at its next turn.
            c.setAutoCommit(false);
            try {
                timeouts.apply(c);
                KeyRange range = source.next(c, after, rows);
                return range == null ? null : new Ahead(after, rows, range, writer.read(c, range));
            } finally {
                c.rollback();
            }
        } catch (SQLException e) {
            return null; // the chunk reads for itself
        }
    }

    /** The read ahead, once it is done; null if there is none or it failed. */
    private Ahead collect() {
        CompletableFuture<Ahead> pending = next;
        next = null;
        if (pending == null) {
            return null;
        }
        try {
            return pending.get();
        } catch (ExecutionException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    @Override
    public boolean joinsKeys() {
        return writer.joinsKeys();
    }

    @Override
    public String sql(int shape) {
        return writer.sql(shape);
    }

    @Override
    public String explainable(int shape) {
        return writer.explainable(shape);
    }

    @Override
    public void close() {
        ahead.shutdownNow();
    }
}
