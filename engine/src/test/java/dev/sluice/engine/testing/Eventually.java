package dev.sluice.engine.testing;

import java.time.Duration;
import java.util.function.Predicate;

/**
 * Waiting in tests for something another thread, process or server does: polls until a condition holds, and fails
 * after a bound with what was awaited and the last value seen. Reads that throw (a server restarting) count as not
 * yet.
 */
public final class Eventually {

    // Often enough to see a chunk's commit, rarely enough to leave the machine to the runner.
    private static final long POLL_MILLIS = 20;

    /** A read that may throw. */
    @FunctionalInterface
    public interface Read<T> {
        T get() throws Exception;
    }

    private Eventually() {}

    /** Polls {@code read} until {@code condition} holds for its value, and returns that value. */
    public static <T> T eventually(Duration within, String what, Read<T> read, Predicate<T> condition) {
        long deadline = System.nanoTime() + within.toNanos();
        T last = null;
        Exception failure = null;
        while (true) {
            try {
                last = read.get();
                failure = null;
                if (condition.test(last)) {
                    return last;
                }
            } catch (Exception e) {
                failure = e;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(
                        "never " + what + " within " + within + "; last seen: " + (failure != null ? failure : last),
                        failure);
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting until " + what, e);
            }
        }
    }

    /** Polls until {@code condition} is true. */
    public static void eventually(Duration within, String what, Read<Boolean> condition) {
        eventually(within, what, condition, Boolean.TRUE::equals);
    }
}
