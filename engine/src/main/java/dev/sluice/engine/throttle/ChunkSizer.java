package dev.sluice.engine.throttle;

import java.time.Duration;

import dev.sluice.engine.chunk.ChunkLoop;

/**
 * Sizes chunks toward a target duration. After each committed chunk it updates a smoothed estimate of the time
 * one row costs, and aims the next chunk at {@code target / costPerRow} rows, within [min, max]. It grows
 * cautiously and shrinks at once, because a chunk that runs long holds row locks long, and that is what other
 * sessions feel. See README.md in this package.
 */
public final class ChunkSizer implements ChunkLoop.Sizing {

    /** Weight of the newest chunk in the moving average: smooths one slow chunk (a checkpoint, a vacuum)
     * without taking more than a few chunks to follow a real change in cost. */
    static final double SMOOTHING = 0.3;
    /** Growth per chunk is capped: a cheap run of rows must not turn the next chunk into a long one. */
    static final double MAX_GROWTH = 1.5;
    /** A chunk this many times over target is an emergency (lock queue, cold cache, a pathological row range)... */
    static final double PANIC_FACTOR = 5;
    /** ...answered by cutting to a tenth at once, not by averaging. */
    static final int PANIC_CUT = 10;
    /** A lock or statement timeout halves the chunk before it is retried: fewer rows, fewer locks to wait on. */
    static final int TIMEOUT_CUT = 2;

    private volatile long targetNanos;
    private final int minRows;
    private final int maxRows;
    private int rows;
    private double nanosPerRow = Double.NaN;

    public ChunkSizer(int initialRows, Duration target, int minRows, int maxRows) {
        this.targetNanos = target.toNanos();
        this.minRows = minRows;
        this.maxRows = maxRows;
        this.rows = clamp(initialRows);
    }

    /** Rows for the next chunk. */
    @Override
    public synchronized int rows() {
        return rows;
    }

    /** A chunk of {@code chunkRows} rows committed after {@code nanos}, finding and writing included. */
    @Override
    public synchronized void feedback(long chunkRows, long nanos) {
        if (chunkRows <= 0 || nanos <= 0) {
            return;
        }
        double perRow = (double) nanos / chunkRows;
        if (nanos > PANIC_FACTOR * targetNanos) {
            nanosPerRow = perRow;
            rows = clamp(rows / PANIC_CUT);
            return;
        }
        nanosPerRow = smoothed(nanosPerRow, perRow);
        long ideal = (long) (targetNanos / nanosPerRow);
        rows = clamp(Math.min(ideal, (long) (rows * MAX_GROWTH)));
    }

    /**
     * The moving average after {@code newest}, weighted by {@link #SMOOTHING}; the first value ({@code average} NaN)
     * stands alone. One rule for every cost learnt from chunks: a row's time here, a row's WAL in {@link Pacer}.
     */
    static double smoothed(double average, double newest) {
        return Double.isNaN(average) ? newest : SMOOTHING * newest + (1 - SMOOTHING) * average;
    }

    /** A new target duration ({@code sluice tune --chunk-target}); the next chunks move toward it. */
    public synchronized void target(Duration target) {
        this.targetNanos = target.toNanos();
    }

    /** Sessions waited on the last chunk's locks longer than they may: a tenth of the size at once. */
    @Override
    public synchronized void yielded() {
        rows = clamp(rows / PANIC_CUT);
    }

    /** The chunk hit its lock or statement timeout; it will be retried smaller. */
    public synchronized void timedOut() {
        rows = clamp(rows / TIMEOUT_CUT);
    }

    private int clamp(long n) {
        return (int) Math.max(minRows, Math.min(maxRows, n));
    }
}
