package dev.sluice.engine.throttle;

import java.time.Duration;
import java.util.function.LongSupplier;

import dev.sluice.engine.StopSignal;
import dev.sluice.engine.chunk.ChunkLoop;
import dev.sluice.engine.health.HealthGates;

/**
 * Decides when the next chunk may start: after the fixed pause, once every health gate is open, and once the rows
 * the previous chunks wrote have been paid for at the rate limit. Called between chunks, before the chunk's
 * transaction has sent anything to the server, so waiting here holds no locks and no snapshot.
 *
 * <p>A chunk pays for what it wrote, after it committed ({@link #charge}), not for its planned size: a chunk over a
 * range where the spec's {@code where} matches few rows, a short last chunk and the final empty probe cost what
 * they hold. And no chunk holds more than about a second of the rate ({@link #maxRows}), so the rate is smooth:
 * never one large chunk followed by a long wait.
 */
public final class Pacer implements ChunkLoop.Pace {

    /**
     * What one partition (its thread) owes before its next chunk: rows and WAL bytes its committed chunks wrote, and,
     * after sessions waited on its locks, when it may go again. Per partition: one shared debt would let the first
     * partition to arrive pay for all, and the others start unpaid (a burst).
     */
    private static final class Owed {
        long rows;
        long walBytes;
        long holdUntil; // on the clock, or 0 for none
        long waitedMillis;
    }

    /** Told when chunks are held back by a health gate, and when they may go again. */
    public interface Observer {
        Observer NONE = new Observer() {};

        default void throttled(String reason) {}

        default void unthrottled(long waitedNanos) {}

        /**
         * Time chunks were held, by reason ({@code pause}, {@code rate}, {@code wal}, {@code health},
         * {@code lock-waiters}): wall time, counted once however many partitions waited at once.
         */
        default void waited(String reason, long nanos) {}

        /** This observer, then {@code other}. */
        default Observer and(Observer other) {
            if (other == NONE) {
                return this;
            }
            if (this == NONE) {
                return other;
            }
            Observer first = this;
            return new Observer() {
                @Override
                public void throttled(String reason) {
                    first.throttled(reason);
                    other.throttled(reason);
                }

                @Override
                public void unthrottled(long waitedNanos) {
                    first.unthrottled(waitedNanos);
                    other.unthrottled(waitedNanos);
                }

                @Override
                public void waited(String reason, long nanos) {
                    first.waited(reason, nanos);
                    other.waited(reason, nanos);
                }
            };
        }
    }

    // A closed gate is looked at again this often at least, so that its opening is noticed soon.
    private static final long GATE_CHECK_NANOS = 50_000_000L;
    // A chunk holds at most this much of the rate: large enough to amortise a chunk's round trips, small
    // enough that the rate measured over any few seconds is the limit, not bursts and silences.
    static final Duration MAX_CHUNK_SHARE = Duration.ofSeconds(1);

    private final Duration pause;
    private volatile RowRateLimiter limiter;
    private final HealthGates gates;
    private final StopSignal stop;
    private final LongSupplier clock;
    private final Sleep sleep;
    private volatile Observer observer = Observer.NONE;
    private volatile long lastChunkEnded;
    private final ThreadLocal<Owed> owed = ThreadLocal.withInitial(Owed::new);
    private final HeldTime held = new HeldTime();
    // throttle.wal-bytes-per-second as a token bucket of bytes (the same kind of bucket as rows), or null.
    private volatile RowRateLimiter wal;
    // WAL bytes per row written, learnt from committed chunks, to size chunks to about a second of the WAL budget.
    private volatile double walPerRow = Double.NaN;

    /** Waits until a time on the pacer's clock; false if a stop was requested first. */
    @FunctionalInterface
    interface Sleep {
        boolean until(long dueNanos);
    }

    /** @param wal the WAL budget in bytes per second (a bucket of bytes), or null for none */
    public Pacer(Duration pause, RowRateLimiter limiter, RowRateLimiter wal, HealthGates gates, StopSignal stop) {
        this(pause, limiter, wal, gates, stop, System::nanoTime, stop::sleepUntil);
    }

    /**
     * A pacer on another clock (nanoseconds, as {@link HealthGates} takes it), with the sleep that goes with it: tests
     * wait on a manual clock, without sleeping. The rate limits' buckets keep their own time.
     */
    Pacer(
            Duration pause,
            RowRateLimiter limiter,
            RowRateLimiter wal,
            HealthGates gates,
            StopSignal stop,
            LongSupplier clock,
            Sleep sleep) {
        this.pause = pause;
        this.limiter = limiter;
        this.wal = wal;
        this.gates = gates;
        this.stop = stop;
        this.clock = clock;
        this.sleep = sleep;
    }

    public void observe(Observer o) {
        this.observer = o;
    }

    /** A new rate ({@code sluice tune --rows-per-second}), 0 for unlimited; a wait in progress follows it at once. */
    public void rowsPerSecond(long rate) {
        this.limiter = RowRateLimiter.of(rate);
    }

    /** The rate in force, 0 for unlimited. */
    public long rowsPerSecond() {
        RowRateLimiter rate = limiter;
        return rate == null ? 0 : rate.rowsPerSecond();
    }

    /** A new WAL budget in bytes per second (a remote partition's share of the job's), 0 for none. */
    public void walBytesPerSecond(long bytes) {
        this.wal = RowRateLimiter.of(bytes);
    }

    /** The most rows a chunk may hold at the current rate (about a second's worth), or MAX_VALUE when unlimited. */
    @Override
    public int maxRows() {
        RowRateLimiter rate = limiter;
        double most = rate == null ? Integer.MAX_VALUE : rate.rowsPerSecond() * MAX_CHUNK_SHARE.toMillis() / 1000.0;
        double perRow = walPerRow;
        RowRateLimiter walRate = wal;
        if (walRate != null && perRow > 0) {
            most = Math.min(most, walRate.rowsPerSecond() * MAX_CHUNK_SHARE.toMillis() / 1000.0 / perRow);
        }
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, most));
    }

    /** A chunk committed, having written (or, for a validation, checked) {@code rows}: the next chunk pays for them. */
    @Override
    public void charge(long rows, long walBytes) {
        Owed debt = owed.get();
        debt.rows += Math.max(0, rows);
        debt.walBytes += Math.max(0, walBytes);
        if (rows > 0 && walBytes > 0) {
            double perRow = (double) walBytes / rows;
            walPerRow = ChunkSizer.smoothed(walPerRow, perRow);
        }
    }

    /**
     * Blocks until the next chunk may start.
     *
     * @return false if a stop was requested while waiting
     */
    @Override
    public boolean awaitTurn() {
        if (lastChunkEnded != 0 && !pause.isZero()) {
            long due = lastChunkEnded + pause.toNanos();
            if (!held("pause", () -> sleepUntil(due))) {
                return false;
            }
        }
        if (!awaitYield()) {
            return false;
        }
        if (!awaitGates()) {
            return false;
        }
        if (!payOwed()) {
            return false;
        }
        return !stop.requested();
    }

    /** Pays for what earlier chunks wrote, at whatever rate is current while paying (tune changes it live). */
    private boolean payOwed() {
        Owed mine = owed.get();
        long debt = mine.rows;
        mine.rows = 0;
        if (!payWal()) {
            return false;
        }
        if (debt == 0) {
            return true;
        }
        return held("rate", () -> {
            long left = debt;
            RowRateLimiter rate;
            while (left > 0 && (rate = limiter) != null) {
                RowRateLimiter paying = rate;
                left = paying.pay(left, () -> stop.requested() || limiter != paying);
                if (stop.requested()) {
                    mine.rows += left;
                    return false;
                }
            }
            return true;
        });
    }

    /** Waits for {@code reason}, counting the wall time the job was held for it once (see {@link HeldTime}). */
    private boolean held(String reason, java.util.function.BooleanSupplier waiting) {
        held.enter(reason, clock.getAsLong());
        try {
            return waiting.getAsBoolean();
        } finally {
            observer.waited(reason, held.leave(reason, clock.getAsLong()));
        }
    }

    /** Pays for the WAL earlier chunks wrote, at the WAL budget: with a rows limit too, the stricter one wins. */
    private boolean payWal() {
        Owed mine = owed.get();
        long bytes = mine.walBytes;
        mine.walBytes = 0;
        RowRateLimiter walRate = wal;
        if (walRate == null || bytes == 0) {
            return true;
        }
        return held("wal", () -> {
            long left = walRate.pay(bytes, stop::requested);
            mine.walBytes += left;
            return left == 0;
        });
    }

    @Override
    public void yieldAfter(long waitedMillis, Duration hold) {
        Owed mine = owed.get();
        mine.holdUntil = clock.getAsLong() + hold.toNanos();
        mine.waitedMillis = waitedMillis;
    }

    /** After sessions waited on the last chunk's locks, holds the next one, with the reason shown. */
    private boolean awaitYield() {
        Owed mine = owed.get();
        long until = mine.holdUntil;
        if (until == 0) {
            return true;
        }
        mine.holdUntil = 0;
        long started = clock.getAsLong();
        observer.throttled("lock waiters: a session waited " + mine.waitedMillis
                + "ms on the last chunk's locks; chunks shrink" + " and hold");
        boolean slept = held("lock-waiters", () -> sleepUntil(until));
        observer.unthrottled(clock.getAsLong() - started);
        return slept;
    }

    /** The chunk (committed or not) is over; the pause counts from now. */
    @Override
    public void chunkEnded() {
        lastChunkEnded = clock.getAsLong();
    }

    /**
     * Waits while a health gate is closed. The wait is counted as {@code health}, or {@code unreadable} while a signal
     * could not be read (the gates fail closed), so that a dashboard tells a busy database from a blind runner.
     */
    private boolean awaitGates() {
        String reason = gates.closedReason();
        if (reason == null) {
            return true;
        }
        long started = clock.getAsLong();
        observer.throttled(reason);
        long slice = Math.max(GATE_CHECK_NANOS, Math.min(gates.poll().toNanos(), 1_000_000_000L));
        GateWait wait = new GateWait(reason);
        while (wait.closed != null) {
            // Counted, each span held once however many partitions wait, under the reason it is held for now.
            String counted = waitReason();
            if (!held(counted, () -> wait.whileHeldFor(counted, slice))) {
                return false;
            }
        }
        observer.unthrottled(clock.getAsLong() - started);
        return true;
    }

    private String waitReason() {
        return gates.unreadable() ? "unreadable" : "health";
    }

    /** A wait on the health gates: the reason they give, shown when it changes. */
    private final class GateWait {
        private String closed;
        private String shown;

        GateWait(String reason) {
            this.closed = reason;
            this.shown = reason;
        }

        /** Waits while the gates stay closed for {@code counted}'s reason; false if the runner is asked to stop. */
        boolean whileHeldFor(String counted, long slice) {
            while (closed != null && waitReason().equals(counted)) {
                if (!sleepUntil(clock.getAsLong() + slice)) {
                    return false;
                }
                closed = gates.closedReason();
                if (closed != null && !closed.equals(shown)) {
                    observer.throttled(closed);
                    shown = closed;
                }
            }
            return true;
        }
    }

    private boolean sleepUntil(long due) {
        return sleep.until(due);
    }
}
