package dev.sluice.engine.checkpoint;

import static dev.sluice.engine.chunk.TransientErrors.LOCK_NOT_AVAILABLE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.sluice.engine.ChunkObserver;
import dev.sluice.engine.ChunkReport;
import dev.sluice.engine.chunk.ChunkFailedException;
import dev.sluice.engine.throttle.ChunkSizer;

import org.junit.jupiter.api.Test;

/** Transient errors are retried with a smaller chunk, a set number of times; anything else fails at once. */
class ChunkRetryTest {

    private final ChunkSizer sizer = new ChunkSizer(800, Duration.ofMillis(250), 10, 10_000);
    private final List<String> seen = new ArrayList<>();
    private final ChunkRetry retry = new ChunkRetry(
            "j",
            sizer,
            new ChunkObserver() {
                @Override
                public void chunkCommitted(ChunkReport report) {}

                @Override
                public void chunkFailed(String error, int attempt) {
                    seen.add(attempt + ": " + error);
                }
            },
            3,
            Duration.ofMillis(1));

    private static Throwable failure(String state) {
        return new ChunkFailedException(null, new SQLException("chunk trouble", state));
    }

    @Test
    void aLockTimeoutIsRetriedWithHalfTheChunkUntilTheAttemptsAreUsedUp() throws Throwable {
        retry.handleException(null, failure(LOCK_NOT_AVAILABLE));
        assertThat(sizer.rows()).isEqualTo(400);
        retry.handleException(null, failure(LOCK_NOT_AVAILABLE));
        assertThat(sizer.rows()).isEqualTo(200);
        assertThatThrownBy(() -> retry.handleException(null, failure(LOCK_NOT_AVAILABLE)))
                .isInstanceOf(ChunkFailedException.class);
        assertThat(seen).hasSize(3).allMatch(s -> s.contains(LOCK_NOT_AVAILABLE));
    }

    @Test
    void aCommittedChunkStartsAFreshSeriesOfAttempts() throws Throwable {
        retry.handleException(null, failure("40P01"));
        retry.handleException(null, failure("40P01"));
        retry.succeeded();
        retry.handleException(null, failure("40001"));
        retry.handleException(null, failure("40001"));
        assertThat(seen).hasSize(4);
        assertThat(sizer.rows())
                .as("deadlocks and serialization failures keep the size")
                .isEqualTo(800);
    }

    @Test
    void anErrorThatWillNotPassByWaitingFailsAtOnce() {
        assertThatThrownBy(() -> retry.handleException(null, failure("23505")))
                .isInstanceOf(ChunkFailedException.class);
        // A lost connection is not retried in place either: the runner reconnects and takes its lock again.
        assertThatThrownBy(() -> retry.handleException(null, failure("08006")))
                .isInstanceOf(ChunkFailedException.class);
        assertThat(seen).isEmpty();
    }
}
