package dev.sluice.engine.throttle;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.Test;

/** The sizing rules on simulated costs; ThrottleTest checks them on real tables. */
class ChunkSizerTest {

    private static final Duration TARGET = Duration.ofMillis(100);

    /** Feeds chunks whose cost is {@code micros} per row, returns the size after {@code steps} chunks. */
    private static int converge(ChunkSizer sizer, double micros, int steps) {
        for (int i = 0; i < steps; i++) {
            int rows = sizer.rows();
            sizer.feedback(rows, (long) (rows * micros * 1000));
        }
        return sizer.rows();
    }

    @Test
    void growsAtMostHalfAgainPerChunkTowardTheTarget() {
        ChunkSizer sizer = new ChunkSizer(1000, TARGET, 100, 1_000_000);
        sizer.feedback(1000, 1_000_000); // 1ms for 1000 rows: ideal is 100,000
        assertThat(sizer.rows()).isEqualTo(1500);
        assertThat(converge(sizer, 1, 40)).isEqualTo(100_000);
    }

    @Test
    void settlesOnTargetOverCostPerRow() {
        assertThat(converge(new ChunkSizer(1000, TARGET, 10, 1_000_000), 50, 30)).isEqualTo(2000);
        assertThat(converge(new ChunkSizer(1000, TARGET, 10, 1_000_000), 1000, 30)).isEqualTo(100);
    }

    @Test
    void cutsToATenthAtOnceWhenAChunkTakesFiveTimesTheTarget() {
        ChunkSizer sizer = new ChunkSizer(5000, TARGET, 10, 100_000);
        sizer.feedback(5000, Duration.ofMillis(600).toNanos());
        assertThat(sizer.rows()).isEqualTo(500);
    }

    @Test
    void halvesOnTimeoutAndStaysWithinBounds() {
        ChunkSizer sizer = new ChunkSizer(400, TARGET, 150, 1000);
        sizer.timedOut();
        assertThat(sizer.rows()).isEqualTo(200);
        sizer.timedOut();
        assertThat(sizer.rows()).isEqualTo(150);
        assertThat(converge(sizer, 0.001, 50)).isEqualTo(1000);
    }

    @Test
    void smoothsASingleSlowChunk() {
        ChunkSizer sizer = new ChunkSizer(1000, TARGET, 10, 1_000_000);
        converge(sizer, 50, 30); // settled at 2000 rows
        sizer.feedback(2000, Duration.ofMillis(300).toNanos()); // one chunk 3x slow, below the panic factor
        assertThat(sizer.rows()).as("moved, but not to a third").isBetween(1000, 1700);
    }
}
