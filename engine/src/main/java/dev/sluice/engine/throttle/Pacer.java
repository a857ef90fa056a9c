package dev.sluice.engine.throttle;

import java.time.Duration;

import dev.sluice.engine.control.StopSignal;
import dev.sluice.engine.health.HealthGates;

/**
 * Decides when the next chunk may start: after the fixed pause, once every health gate is open, and once the
 * rate limiter has granted the chunk's rows. Called between chunks, before the chunk's transaction has sent
 * anything to the server, so waiting here holds no locks and no snapshot.
 */
public final class Pacer {

    /** Told when chunks are held back by a health gate, and when they may go again. */
    public interface Observer {
        Observer NONE = new Observer() { };

        default void throttled(String reason) {
        }

        default void unthrottled(long waitedNanos) {
        }

        /** Time spent waiting before a chunk, by reason ({@code pause}, {@code rate}, {@code health}). */
        default void waited(String reason, long nanos) {
        }
    }

    // How often a wait looks at the stop signal: an operator's stop must not wait for a long throttle.
    private static final long STOP_CHECK_NANOS = 50_000_000L;

    private final Duration pause;
    private volatile RowRateLimiter limiter;
    private final HealthGates gates;
    private final StopSignal stop;
    private volatile Observer observer = Observer.NONE;
    private long lastChunkEnded;

    public Pacer(Duration pause, RowRateLimiter limiter, HealthGates gates, StopSignal stop) {
        this.pause = pause;
        this.limiter = limiter;
        this.gates = gates;
        this.stop = stop;
    }

    public void observe(Observer o) {
        this.observer = o;
    }

    /** A new rate ({@code sluice tune --rows-per-second}), 0 for unlimited; from the next chunk on. */
    public void rowsPerSecond(long rate) {
        this.limiter = RowRateLimiter.of(rate);
    }

    /**
     * Blocks until a chunk of {@code rows} rows may start.
     *
     * @return false if a stop was requested while waiting
     */
    public boolean awaitTurn(int rows) {
        if (lastChunkEnded != 0 && !pause.isZero()) {
            long started = System.nanoTime();
            long due = lastChunkEnded + pause.toNanos();
            if (!sleepUntil(due)) {
                return false;
            }
            observer.waited("pause", System.nanoTime() - started);
        }
        if (!awaitGates()) {
            return false;
        }
        RowRateLimiter rate = limiter;
        if (rate != null) {
            long started = System.nanoTime();
            if (!rate.acquire(rows, stop)) {
                return false;
            }
            observer.waited("rate", System.nanoTime() - started);
        }
        return !stop.requested();
    }

    /** The chunk (committed or not) is over; the pause counts from now. */
    public void chunkEnded() {
        lastChunkEnded = System.nanoTime();
    }

    private boolean awaitGates() {
        String reason = gates.closedReason();
        if (reason == null) {
            return true;
        }
        long started = System.nanoTime();
        observer.throttled(reason);
        String shown = reason;
        long slice = Math.max(STOP_CHECK_NANOS, Math.min(gates.poll().toNanos(), 1_000_000_000L));
        while (reason != null) {
            if (!sleepUntil(System.nanoTime() + slice)) {
                observer.waited("health", System.nanoTime() - started);
                return false;
            }
            reason = gates.closedReason();
            if (reason != null && !reason.equals(shown)) {
                observer.throttled(reason);
                shown = reason;
            }
        }
        long waited = System.nanoTime() - started;
        observer.waited("health", waited);
        observer.unthrottled(waited);
        return true;
    }

    private boolean sleepUntil(long due) {
        long now;
        while ((now = System.nanoTime()) < due) {
            if (stop.requested()) {
                return false;
            }
            try {
                Thread.sleep(Math.max(1, Math.min(STOP_CHECK_NANOS, due - now) / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return !stop.requested();
    }
}
