package dev.sluice.engine.chunk;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;

import dev.sluice.engine.ChunkObserver;
import dev.sluice.engine.ChunkReport;
import dev.sluice.engine.Key;
import dev.sluice.engine.KeyRange;

/**
 * The chunk loop: what one chunk does, from "may it start" to "it committed". The runner turns it until the key
 * space is walked; each turn runs inside a transaction the caller owns, whose commit also carries the checkpoint
 * (see the {@code checkpoint} package, where Spring Batch turns it).
 *
 * <p>Each decision has a seam of its own, and the loop knows none of their insides: <b>which keys</b> (a
 * {@link Source}: the keyset, or a key-range partition of it), <b>how many</b> ({@link Sizing}: toward a target
 * duration), <b>when</b> ({@link Pace}: the pause, the health gates, the rate limit, a stop), <b>how</b> (the
 * {@link ChunkWriter}), and <b>what else commits with the chunk</b> (the {@link ChunkLedger}: a validation's
 * findings). A turn returns the chunk; the caller records the checkpoint after it, last.
 */
public final class ChunkLoop {

    /** Which keys: the next range after a key, or null when no key lies above it. */
    @FunctionalInterface
    public interface Source {
        KeyRange next(Connection c, Key after, int rows) throws SQLException;

        /**
         * {@link #next(Connection, Key, int)}, the chunk's transaction opened first by {@code opening}: sent ahead of
         * the range query in the same round trip where the source can, run on its own otherwise.
         */
        default KeyRange next(Connection c, Key after, int rows, ChunkTimeouts.Opening opening) throws SQLException {
            opening.run(c);
            return next(c, after, rows);
        }

        /**
         * The same keys cut into ranges of about equal rows, to be worked at once: for each of the disjoint
         * {@code intervals}, the keys that end a range inside it. A source that cannot be cut (the undo journal's
         * entries) answers no cuts, and its work is one range.
         */
        default List<List<Key>> cuts(Connection c, List<KeyRange> intervals, int parts) throws SQLException {
            return intervals.stream().<List<Key>>map(i -> List.of()).toList();
        }

        /** The keys at or below {@code hi} only (null: no bound): one range of a cut. */
        default Source upTo(Key hi) {
            if (hi != null) {
                throw new UnsupportedOperationException("this source cannot be cut into ranges");
            }
            return this;
        }
    }

    /** How many rows the next chunk holds, learnt from how long the last ones took. */
    public interface Sizing {
        int rows();

        /** A chunk of {@code rows} rows committed after {@code nanos}, finding and writing included. */
        void feedback(long rows, long nanos);

        /** Sessions waited on the chunk's locks longer than they may: the next chunks are much smaller. */
        default void yielded() {}
    }

    /** When the next chunk may start, and what a committed chunk costs. */
    public interface Pace {
        /** Blocks until the next chunk may start; false if the runner is asked to stop. */
        boolean awaitTurn();

        /** The most rows a chunk may hold now (a second of the rate limit). */
        int maxRows();

        /** A chunk committed that wrote (or, a validation, checked) {@code rows}, and {@code walBytes} of WAL. */
        void charge(long rows, long walBytes);

        /** The chunk is over, committed or not. */
        void chunkEnded();

        /**
         * Sessions waited up to {@code waitedMillis} on the last chunk's locks: the next chunk waits {@code hold} first,
         * so that they get their locks and finish.
         */
        default void yieldAfter(long waitedMillis, Duration hold) {}
    }

    /**
     * Who waits on the chunk's locks: watched while the chunk runs (the application's sessions queued behind it), so
     * that the loop can give way after it.
     */
    @FunctionalInterface
    public interface Waiters {
        Waiters NONE = pid -> () -> 0;

        /** Starts watching the sessions that wait on backend {@code pid}'s locks. */
        Watch watch(int pid);

        /** A watch over one chunk. */
        @FunctionalInterface
        interface Watch {
            /** Stops watching; returns the longest wait seen over the limit, in milliseconds, or 0 if none was. */
            long stop();
        }
    }

    /**
     * How a chunk's transaction begins (its timeouts and planner settings, {@link ChunkTimeouts}) and what it wrote to
     * the WAL by its end: the loop's one reach into the server besides its source, writer and ledger.
     */
    public interface Settings {
        /** Sets the chunk's transaction up; {@code joinsKeys} as {@link ChunkWriter#joinsKeys}. */
        ChunkTimeouts.Start apply(Connection c, boolean joinsKeys) throws SQLException;

        /**
         * What {@link #apply} runs, as a statement a source may send ahead of its range query in one round trip; one
         * that cannot be sent so runs {@link #apply} when the source runs it.
         */
        default ChunkTimeouts.Opening opening(boolean joinsKeys) {
            Settings settings = this;
            return new ChunkTimeouts.Opening(null, null, null) {
                @Override
                public void run(Connection c) throws SQLException {
                    started(settings.apply(c, joinsKeys));
                }
            };
        }

        /** The WAL written since {@code start}, in bytes. */
        long walSince(Connection c, ChunkTimeouts.Start start) throws SQLException;

        /**
         * What {@link #walSince} runs, as a statement a writer may send after its write in one round trip; one that
         * cannot be sent so runs {@link #walSince} when the writer runs it.
         */
        default ChunkTimeouts.WalSince walProbe(ChunkTimeouts.Start start) {
            Settings settings = this;
            return new ChunkTimeouts.WalSince(null, null) {
                @Override
                public void run(Connection c) throws SQLException {
                    measured(settings.walSince(c, start));
                }
            };
        }
    }

    /** Makes sure this runner still owns the job (its lock's session is alive); throws if not. */
    @FunctionalInterface
    public interface Guard {
        void verify();
    }

    /**
     * A committed chunk's range and what it wrote.
     *
     * @param startedNanos {@link System#nanoTime()} when its work began
     * @param walBytes     the WAL written while it ran (see {@link ChunkTimeouts#walSince})
     * @param waitedMillis the longest wait over the limit of a session on its locks, or 0
     */
    public record Chunk(KeyRange range, long written, long startedNanos, long walBytes, long waitedMillis) {}

    private final Source source;
    private final ChunkWriter writer;
    private final ChunkLedger ledger;
    private final boolean chargesChecked;
    private final Settings timeouts;
    private final Sizing sizing;
    private final Pace pace;
    private final Guard guard;
    private final ChunkObserver observer;
    private final Waiters waiters;
    private final Duration maxWait;

    /**
     * @param chargesChecked whether the rate limit counts the rows a chunk checked (a validation) rather than wrote
     * @param waiters who waits on the chunk's locks, watched while it runs
     * @param maxWait how long a session may wait on them before the loop gives way (and how long it then holds)
     */
    public ChunkLoop(
            Source source,
            ChunkWriter writer,
            ChunkLedger ledger,
            boolean chargesChecked,
            Settings timeouts,
            Sizing sizing,
            Pace pace,
            Guard guard,
            ChunkObserver observer,
            Waiters waiters,
            Duration maxWait) {
        this.waiters = waiters;
        this.maxWait = maxWait;
        this.source = source;
        this.writer = writer;
        this.ledger = ledger;
        this.chargesChecked = chargesChecked;
        this.timeouts = timeouts;
        this.sizing = sizing;
        this.pace = pace;
        this.guard = guard;
        this.observer = observer;
    }

    /**
     * Waits for the next chunk's turn, before its transaction sends anything, so that the wait holds no locks and no
     * snapshot.
     *
     * @return false if the runner is asked to stop
     */
    public boolean mayStart() {
        return pace.awaitTurn();
    }

    /**
     * One chunk, in the caller's transaction on {@code c}: the next range after {@code after}, written, with its
     * ledger's work; or, when no key is left, the ledger's last word.
     *
     * @return the chunk, or null when the walk is done
     * @throws ChunkFailedException (unchecked, so that the caller's transaction rolls back) naming the range
     */
    public Chunk turn(Connection c, Key after, ChunkLedger.Notes notes) {
        guard.verify();
        long started = System.nanoTime();
        KeyRange range = null;
        Waiters.Watch watch = null;
        try {
            ChunkTimeouts.Opening opening = timeouts.opening(writer.joinsKeys() || ledger.joinsKeys());
            range = source.next(c, after, rows(), opening);
            ChunkTimeouts.Start start = opening.start();
            watch = waiters.watch(start.backendPid());
            if (range == null) {
                ledger.finish(c, after, notes);
                return null;
            }
            ChunkTimeouts.WalSince wal = timeouts.walProbe(start);
            long written;
            if (ledger == ChunkLedger.NONE) {
                written = writer.write(c, range, wal); // the WAL measured in the write's round trip
            } else {
                written = writer.write(c, range);
                ledger.apply(c, range, notes);
                wal.run(c); // the ledger's writes counted too
            }
            Waiters.Watch done = watch;
            watch = null;
            return new Chunk(range, written, started, wal.bytes(), done.stop());
        } catch (SQLException e) {
            throw new ChunkFailedException(range, e);
        } finally {
            if (watch != null) {
                watch.stop();
            }
        }
    }

    /** Where the loop goes next: told after the chunk's transaction committed. */
    public void committed(Chunk chunk, long totalRows, long totalChunks) {
        long nanos = System.nanoTime() - chunk.startedNanos();
        sizing.feedback(chunk.range().rows(), nanos);
        pace.charge(chargesChecked ? chunk.range().rows() : chunk.written(), chunk.walBytes());
        if (chunk.waitedMillis() > 0) {
            sizing.yielded();
            pace.yieldAfter(chunk.waitedMillis(), maxWait);
        }
        observer.chunkCommitted(
                new ChunkReport(chunk.range(), chunk.written(), nanos, totalRows, totalChunks, chunk.walBytes()));
    }

    /** The chunk's transaction ended, committed or not: a fixed pause counts from now. */
    public void ended() {
        pace.chunkEnded();
    }

    /** The rows the next chunk holds: the sizing's choice, within a second of the rate. */
    public int rows() {
        return Math.min(sizing.rows(), pace.maxRows());
    }
}
