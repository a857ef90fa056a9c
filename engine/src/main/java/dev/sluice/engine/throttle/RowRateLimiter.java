package dev.sluice.engine.throttle;

import java.time.Duration;
import java.util.function.BooleanSupplier;

import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;

/**
 * {@code throttle.rows-per-second} as a token bucket on rows (Resilience4j's RateLimiter), one permit per row.
 *
 * <p>The bucket refills {@code slice} permits every {@code slice / rate} seconds, with {@code slice} a tenth of a
 * second's worth: the average rate is exact, and the burst at start or after a pause is a tenth of a second of
 * rows, not a whole second's. Permits are taken slice by slice, so a stop request or a new rate is noticed within
 * one.
 */
public final class RowRateLimiter {

    // A tenth of a second of burst: small against a run's length, large enough to keep waits coarse.
    private static final int SLICES_PER_SECOND = 10;

    private final long rowsPerSecond;
    private final int slice;
    private final RateLimiter limiter;

    private RowRateLimiter(long rowsPerSecond) {
        this.rowsPerSecond = rowsPerSecond;
        this.slice = (int) Math.max(1, Math.min(Integer.MAX_VALUE, rowsPerSecond / SLICES_PER_SECOND));
        long periodNanos = Math.max(1, Math.round(slice * 1e9 / rowsPerSecond));
        this.limiter = RateLimiter.of(
                "rows",
                RateLimiterConfig.custom()
                        .limitForPeriod(slice)
                        .limitRefreshPeriod(Duration.ofNanos(periodNanos))
                        .timeoutDuration(
                                Duration.ofNanos(periodNanos).multipliedBy(2).plusSeconds(1))
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
     * Takes permits for up to {@code rows} rows, a slice at a time, until they are all taken or {@code giveUp} says
     * to stop (a stop request, a new rate).
     *
     * @return the rows still unpaid (0 when all were taken)
     */
    public long pay(long rows, BooleanSupplier giveUp) {
        long remaining = rows;
        while (remaining > 0 && !giveUp.getAsBoolean()) {
            int n = (int) Math.min(slice, remaining);
            if (limiter.acquirePermission(n)) {
                remaining -= n;
            }
        }
        return remaining;
    }
}
