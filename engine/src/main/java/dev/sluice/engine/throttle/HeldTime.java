package dev.sluice.engine.throttle;

import java.util.HashMap;
import java.util.Map;

/**
 * Wall time a job's chunks were held, per reason. With partitions several wait at once for the same reason (each pays
 * its own debt to the shared rate, each waits on the same closed gate), and the job was held once, for as long as any
 * of them waited: a reason's time runs from when the first partition starts waiting for it to when the last one stops,
 * so that {@code sluice_throttle_seconds_total} never counts more than the wall time that passed.
 */
final class HeldTime {

    /** The partitions waiting for one reason, and since when the time counted for it was last handed out. */
    private static final class Span {
        int waiting;
        long since;
    }

    private final Map<String, Span> spans = new HashMap<>();

    /** A partition starts waiting for {@code reason} at {@code now} ({@link System#nanoTime()}). */
    synchronized void enter(String reason, long now) {
        Span span = spans.computeIfAbsent(reason, r -> new Span());
        if (span.waiting++ == 0) {
            span.since = now;
        }
    }

    /**
     * A partition stops waiting for {@code reason} at {@code now}.
     *
     * @return the wall time held for it since the last hand-out, to count once (0 when another partition counted it)
     */
    synchronized long leave(String reason, long now) {
        Span span = spans.get(reason);
        if (span == null || span.waiting == 0) {
            return 0;
        }
        long held = Math.max(0, now - span.since);
        span.since = now;
        span.waiting--;
        return held;
    }
}
