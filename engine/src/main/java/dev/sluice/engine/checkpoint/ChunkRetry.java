package dev.sluice.engine.checkpoint;

import java.sql.SQLException;
import java.time.Duration;

import dev.sluice.engine.ChunkObserver;
import dev.sluice.engine.chunk.Failures;
import dev.sluice.engine.chunk.TransientErrors;
import dev.sluice.engine.throttle.ChunkSizer;

import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.batch.infrastructure.repeat.RepeatContext;
import org.springframework.batch.infrastructure.repeat.exception.ExceptionHandler;

/**
 * Retries a chunk that failed for a transient reason, with exponential backoff and jitter (Resilience4j Retry).
 * It sits where Spring Batch lets a step decide about a failed chunk, the step's exception handler: by then the
 * chunk's transaction has rolled back with its checkpoint, so the next attempt starts from the same key. A lock or
 * statement timeout, or a limit the chunk's data passed, also halves the chunk first. After the last attempt the
 * error ends the step (FAILED).
 */
public final class ChunkRetry implements ExceptionHandler {

    private static final Logger LOG = LoggerFactory.getLogger(ChunkRetry.class);
    // Eight attempts with backoff from 200ms doubling to at most 10s: about 25s of trying, long enough to outlast
    // a deadlock storm, a failover or a short lock queue; short enough that a real outage fails the job soon.
    static final int ATTEMPTS = 8;
    static final Duration FIRST_BACKOFF = Duration.ofMillis(200);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(10);
    // Jitter: runners retrying together after a shared failure should not come back in lockstep.
    static final double JITTER = 0.5;

    private final Retry retry;
    private final int maxAttempts;
    private final ChunkSizer sizer;
    private final ChunkObserver observer;
    private Retry.Context<Object> attempts;
    private int attempt;

    public ChunkRetry(String job, ChunkSizer sizer, ChunkObserver observer) {
        this(job, sizer, observer, ATTEMPTS, FIRST_BACKOFF);
    }

    ChunkRetry(String job, ChunkSizer sizer, ChunkObserver observer, int maxAttempts, Duration firstBackoff) {
        this.retry = Retry.of(
                job,
                RetryConfig.custom()
                        .maxAttempts(maxAttempts)
                        .intervalFunction(
                                IntervalFunction.ofExponentialRandomBackoff(firstBackoff, 2.0, JITTER, MAX_BACKOFF))
                        .retryOnException(e -> TransientErrors.find(e) != null)
                        .build());
        this.maxAttempts = maxAttempts;
        this.sizer = sizer;
        this.observer = observer;
    }

    @Override
    public void handleException(RepeatContext context, Throwable failure) throws Throwable {
        SQLException transientError = TransientErrors.find(failure);
        if (transientError == null || !(failure instanceof Exception e)) {
            reset();
            throw failure;
        }
        if (TransientErrors.shrinks(transientError)) {
            sizer.timedOut();
        }
        if (attempts == null) {
            attempts = retry.context();
            attempt = 0;
        }
        attempt++;
        String what = Failures.describe(failure);
        observer.chunkFailed(what, attempt);
        try {
            attempts.onError(e); // sleeps the backoff, or throws when the attempts are used up
        } catch (Exception exhausted) {
            LOG.error("giving up after {} attempts: {}", attempt, what);
            reset();
            throw failure;
        }
        LOG.warn("attempt {} of {} failed, retrying with {} rows: {}", attempt, maxAttempts, sizer.rows(), what);
    }

    /** A chunk committed: the next failure starts a fresh series of attempts. */
    public void succeeded() {
        if (attempts != null) {
            attempts.onComplete();
            reset();
        }
    }

    private void reset() {
        attempts = null;
        attempt = 0;
    }
}
