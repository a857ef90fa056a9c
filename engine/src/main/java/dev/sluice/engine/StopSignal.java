package dev.sluice.engine;

import java.util.concurrent.atomic.AtomicReference;

/**
 * A request to stop a running job after its current chunk, from a signal handler or an operator. The runner
 * checks it between chunks only, so a chunk is never cut short by it.
 */
public final class StopSignal {

    /** The reason an operator's {@code sluice pause} gives. */
    public static final String PAUSE = "paused by an operator";
    /** The reason an operator's {@code sluice cancel} gives. */
    public static final String CANCEL = "cancelled by an operator";
    /**
     * The reason {@code serve} gives when a job's window closes: PAUSED like an operator's pause, but the scheduler
     * resumes it when the window opens again. An operator's pause holds until an operator resumes.
     */
    public static final String WINDOW = "paused: its schedule's window closed";

    /** Whether a job that stopped for {@code reason} is PAUSED (rather than STOPPED). */
    public static boolean isPause(String reason) {
        return PAUSE.equals(reason) || WINDOW.equals(reason);
    }

    private final AtomicReference<String> reason = new AtomicReference<>();
    private final StopSignal parent;

    public StopSignal() {
        this(null);
    }

    private StopSignal(StopSignal parent) {
        this.parent = parent;
    }

    /**
     * A signal that is requested when this one is, and may also be requested on its own: a job's partitions stop
     * for an operator (this signal) or because one of them failed (the child only). The parent's reason comes first.
     */
    public StopSignal child() {
        return new StopSignal(this);
    }

    /** Asks the job to stop; the first reason given is kept. */
    public void request(String why) {
        reason.compareAndSet(null, why);
    }

    public boolean requested() {
        return reason.get() != null || (parent != null && parent.requested());
    }

    public String reason() {
        return parent != null && parent.requested() ? parent.reason() : reason.get();
    }

    // How often a wait looks at the signal: an operator's stop must not wait for a long throttle or backoff.
    private static final long CHECK_NANOS = 50_000_000L;

    /**
     * Sleeps until {@code dueNanos} ({@link System#nanoTime()}), looking at the signal every few tens of milliseconds.
     *
     * @return false if a stop was requested (or the thread interrupted) before then
     */
    public boolean sleepUntil(long dueNanos) {
        long now;
        while ((now = System.nanoTime()) < dueNanos) {
            if (requested()) {
                return false;
            }
            try {
                Thread.sleep(Math.max(1, Math.min(CHECK_NANOS, dueNanos - now) / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return !requested();
    }
}
