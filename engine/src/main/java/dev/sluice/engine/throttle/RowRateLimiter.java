package dev.sluice.engine.throttle;

import java.time.Duration;

import dev.sluice.engine.control.StopSignal;

import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;

/**
 * {@code throttle.rows-per-second} as a token bucket on rows (Resilience4j's RateLimiter), one permit per row.
 *
 * <p>The bucket refills {@code slice} permits every {@code slice / rate} seconds, with {@code slice} a tenth of a
 * second's worth: the average rate is exact, and the burst at start or after a pause is a tenth of a second of
 * rows, not a whole second's. A chunk takes its permits slice by slice, so a stop request is noticed within one.
 */
public final class RowRateLimiter {

    // A tenth of a second of burst: small against a 5-second measurement, large enough to keep waits coarse.
    private static final int SLICES_PER_SECOND = 10;

    private final long rowsPerSecond;
    private final int slice;
    private final RateLimiter limiter;

    private RowRateLimiter(long rowsPerSecond) {
        this.rowsPerSecond = rowsPerSecond;
        this.slice = (int) Math.max(1, Math.min(Integer.MAX_VALUE, rowsPerSecond / SLICES_PER_SECOND));
        long periodNanos = Math.max(1, Math.round(slice * 1e9 / rowsPerSecond));
        this.limiter = RateLimiter.of("rows", RateLimiterConfig.custom()
                .limitForPeriod(slice)
                .limitRefreshPeriod(Duration.ofNanos(periodNanos))
                .timeoutDuration(Duration.ofNanos(periodNanos).multipliedBy(2).plusSeconds(1))
                .build());
    }

    /** @return a limiter, or null for 0 (unlimited) */
    public static RowRateLimiter of(long rowsPerSecond) {
        return rowsPerSecond <= 0 ? null : new RowRateLimiter(rowsPerSecond);
    }

    public long rowsPerSecond() {
        return rowsPerSecond;
    }

    /**
     * Waits until {@code rows} permits are granted.
     *
     * @return false if a stop was requested first
     */
    public boolean acquire(long rows, StopSignal stop) {
        long remaining = rows;
        while (remaining > 0) {
            if (stop.requested()) {
                return false;
            }
            int n = (int) Math.min(slice, remaining);
            if (limiter.acquirePermission(n)) {
                remaining -= n;
            }
        }
        return true;
    }
}
