package dev.sluice.engine.throttle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

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
        assertThat(converge(new ChunkSizer(1000, TARGET, 10, 1_000_000), 50, 30))
                .isEqualTo(2000);
        assertThat(converge(new ChunkSizer(1000, TARGET, 10, 1_000_000), 1000, 30))
                .isEqualTo(100);
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

    @Test
    void cutsToATenthAtOnceWhenSessionsWaitedOnItsLocks() {
        ChunkSizer sizer = new ChunkSizer(5000, TARGET, 10, 100_000);
        sizer.yielded();
        assertThat(sizer.rows()).isEqualTo(500);
    }

    @Test
    void aPanicForgetsTheOldCostAndLearnsFromTheSlowChunk() {
        ChunkSizer sizer = new ChunkSizer(1000, TARGET, 10, 1_000_000);
        converge(sizer, 50, 30); // settled at 2000 rows, 50us a row
        sizer.feedback(2000, Duration.ofSeconds(2).toNanos()); // 1ms a row, 20x the target
        assertThat(sizer.rows()).isEqualTo(200);
        sizer.feedback(200, 200 * 50_000L); // cheap again: averaged with the slow chunk's cost, not the old one
        assertThat(sizer.rows()).as("100ms / (0.3 x 50us + 0.7 x 1000us)").isEqualTo(139);
    }

    @Test
    void aNewTargetMovesTheNextChunksTowardIt() {
        ChunkSizer sizer = new ChunkSizer(1000, TARGET, 10, 1_000_000);
        converge(sizer, 50, 30);
        sizer.target(Duration.ofMillis(200));
        assertThat(converge(sizer, 50, 1)).as("growth still capped").isEqualTo(3000);
        assertThat(converge(sizer, 50, 10)).isEqualTo(4000);
    }

    @Test
    void learnsNothingFromAChunkThatHeldNoRowsOrTookNoTime() {
        ChunkSizer sizer = new ChunkSizer(1000, TARGET, 10, 1_000_000);
        sizer.feedback(0, Duration.ofSeconds(5).toNanos()); // the final empty probe
        sizer.feedback(1000, 0);
        assertThat(sizer.rows()).isEqualTo(1000);
    }

    @Test
    void aFixedSizeWhenTheBoundsMeet() {
        ChunkSizer sizer = new ChunkSizer(100, TARGET, 500, 500);
        assertThat(sizer.rows()).as("the initial size is clamped too").isEqualTo(500);
        assertThat(converge(sizer, 1, 20)).isEqualTo(500);
        sizer.feedback(500, Duration.ofSeconds(10).toNanos());
        sizer.timedOut();
        sizer.yielded();
        assertThat(sizer.rows()).isEqualTo(500);
    }

    @Test
    void theAverageWeighsTheNewestCostAtTheSmoothing() {
        assertThat(ChunkSizer.smoothed(Double.NaN, 7))
                .as("the first cost stands alone")
                .isEqualTo(7);
        assertThat(ChunkSizer.smoothed(10, 20)).isCloseTo(10 + ChunkSizer.SMOOTHING * 10, within(1e-9));
    }
}
