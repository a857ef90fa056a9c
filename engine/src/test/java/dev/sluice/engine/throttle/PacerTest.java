package dev.sluice.engine.throttle;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

import dev.sluice.engine.StopSignal;
import dev.sluice.engine.health.HealthGates;
import dev.sluice.engine.health.Reading;
import dev.sluice.engine.health.Signal;

import org.junit.jupiter.api.Test;

/**
 * The pacer's waits on a manual clock: its sleep moves the clock to when it was due, so every wait is computed, none
 * slept. ThrottleTest checks the same rules on real tables, at real rates.
 */
class PacerTest {

    // Any start but 0, which the pacer reads as "no chunk has ended yet".
    private static final long START = Duration.ofHours(1).toNanos();
    // The health gates' slice: a closed gate is looked at again this often (Pacer.GATE_CHECK_NANOS).
    private static final Duration SLICE = Duration.ofMillis(50);
    // A limit the lag readings go over (10s) and come back well under (1s, below half: the gate opens).
    private static final double MAX_LAG = 5;

    private final StopSignal stop = new StopSignal();
    private final ManualClock clock = new ManualClock();
    private final Waits observer = new Waits();

    /** A clock that moves only when the pacer sleeps on it; the runner may be asked to stop during a sleep. */
    private final class ManualClock {
        long now = START;
        final List<Long> sleeps = new ArrayList<>();
        int stopDuringSleep = Integer.MAX_VALUE;

        boolean sleepUntil(long due) {
            if (due > now) {
                sleeps.add(due - now);
                now = due;
            }
            if (sleeps.size() >= stopDuringSleep) {
                stop.request("test");
            }
            return !stop.requested();
        }
    }

    /** What the pacer tells its observer. */
    private static final class Waits implements Pacer.Observer {
        final List<String> throttled = new ArrayList<>();
        final List<String> waited = new ArrayList<>();
        final List<Long> unthrottled = new ArrayList<>();

        @Override
        public void throttled(String reason) {
            throttled.add(reason);
        }

        @Override
        public void unthrottled(long waitedNanos) {
            unthrottled.add(waitedNanos);
        }

        @Override
        public void waited(String reason, long nanos) {
            waited.add(reason + " " + Duration.ofNanos(nanos).toMillis() + "ms");
        }
    }

    /** A replica whose lag reads, one poll after another, as listed (NaN: cannot be read); the last value stays. */
    private static final class Lag implements Signal {
        private final Deque<Double> seconds = new ArrayDeque<>();

        Lag(Double... seconds) {
            this.seconds.addAll(List.of(seconds));
        }

        @Override
        public String name() {
            return "replica";
        }

        @Override
        public List<Reading> read() throws SQLException {
            Double lag = seconds.size() > 1 ? seconds.poll() : seconds.peek();
            if (lag.isNaN()) {
                throw new SQLException("standby unreachable");
            }
            return List.of(new Reading("replica r1", "replay lag", lag, MAX_LAG, Reading.Unit.SECONDS));
        }
    }

    private Pacer pacer(Duration pause, RowRateLimiter rate, RowRateLimiter wal, Signal... signals) {
        // Polled at every look: the pacer's slice sets the pace of the looks.
        HealthGates gates = new HealthGates(List.of(signals), Duration.ZERO);
        Pacer pacer = new Pacer(pause, rate, wal, gates, stop, () -> clock.now, clock::sleepUntil);
        pacer.observe(observer);
        return pacer;
    }

    @Test
    void theFirstChunkStartsAtOnce() {
        Pacer pacer = pacer(Duration.ofSeconds(1), null, null);
        assertThat(pacer.awaitTurn()).isTrue();
        assertThat(clock.sleeps).isEmpty();
    }

    @Test
    void theNextChunkWaitsThePauseCountedFromTheEndOfTheLast() {
        Pacer pacer = pacer(Duration.ofMillis(200), null, null);
        pacer.chunkEnded();
        clock.now += Duration.ofMillis(30).toNanos(); // the commit's bookkeeping
        assertThat(pacer.awaitTurn()).isTrue();
        assertThat(clock.sleeps).containsExactly(Duration.ofMillis(170).toNanos());
        assertThat(observer.waited).containsExactly("pause 170ms");
    }

    @Test
    void aPauseAlreadyOverCostsNothing() {
        Pacer pacer = pacer(Duration.ofMillis(200), null, null);
        pacer.chunkEnded();
        clock.now += Duration.ofSeconds(1).toNanos();
        assertThat(pacer.awaitTurn()).isTrue();
        assertThat(clock.sleeps).isEmpty();
    }

    @Test
    void aClosedGateHoldsTheChunkUntilItsReadingFallsUnderHalfTheLimit() {
        // 10s: closed; 4s: under the limit but not under half of it, still closed; 1s: open.
        Pacer pacer = pacer(Duration.ZERO, null, null, new Lag(10.0, 10.0, 4.0, 1.0));
        assertThat(pacer.awaitTurn()).isTrue();
        assertThat(clock.sleeps).as("looked at again every slice").hasSize(3).containsOnly(SLICE.toNanos());
        assertThat(observer.throttled).as("told again when the reason changes").hasSize(2);
        assertThat(observer.throttled.get(0)).contains("replica r1 replay lag 10.0s > 5.0s");
        assertThat(observer.throttled.get(1)).contains("4.0s > 5.0s (waiting for < half the limit)");
        assertThat(observer.unthrottled).containsExactly(SLICE.multipliedBy(3).toNanos());
        assertThat(observer.waited).containsExactly("health 150ms");
    }

    @Test
    void anUnreadableSignalHoldsTheChunkAndSaysSo() {
        Pacer pacer = pacer(Duration.ZERO, null, null, new Lag(Double.NaN));
        clock.stopDuringSleep = 4;
        assertThat(pacer.awaitTurn()).as("a stop ends the wait").isFalse();
        assertThat(observer.throttled).singleElement().asString().contains("standby unreachable");
        assertThat(observer.waited).containsExactly("unreadable 200ms");
    }

    @Test
    void aStopWhileAGateIsClosedEndsTheWaitAtTheNextSlice() {
        Pacer pacer = pacer(Duration.ZERO, null, null, new Lag(10.0));
        clock.stopDuringSleep = 2;
        assertThat(pacer.awaitTurn()).isFalse();
        assertThat(clock.sleeps).hasSize(2);
    }

    @Test
    void afterSessionsWaitedOnItsLocksTheNextChunkHoldsSoTheyFinish() {
        Pacer pacer = pacer(Duration.ZERO, null, null);
        pacer.yieldAfter(1200, Duration.ofSeconds(2));
        clock.now += Duration.ofMillis(500).toNanos();
        assertThat(pacer.awaitTurn()).isTrue();
        assertThat(clock.sleeps).containsExactly(Duration.ofMillis(1500).toNanos());
        assertThat(observer.throttled).singleElement().asString().contains("a session waited 1200ms");
        assertThat(observer.waited).containsExactly("lock-waiters 1500ms");
        assertThat(pacer.awaitTurn()).as("held once").isTrue();
        assertThat(clock.sleeps).hasSize(1);
    }

    @Test
    void aChunkHoldsAboutASecondOfTheRateAndOfTheWalBudget() {
        Pacer pacer = pacer(Duration.ZERO, RowRateLimiter.of(5000), RowRateLimiter.of(1 << 20));
        assertThat(pacer.maxRows()).isEqualTo(5000);
        pacer.charge(1000, 1000 * 1024L); // a KB a row: a second of a MB/s is 1024 rows
        assertThat(pacer.maxRows()).isEqualTo(1024);
        pacer.charge(1000, 1000 * 3072L); // 3KB a row, smoothed as ChunkSizer smooths a row's time
        double perRow = ChunkSizer.smoothed(1024, 3072);
        assertThat(pacer.maxRows()).isEqualTo((int) ((1 << 20) / perRow));
        pacer.rowsPerSecond(0);
        assertThat(pacer.maxRows())
                .as("the WAL budget still holds with no rows limit")
                .isEqualTo((int) ((1 << 20) / perRow));
    }

    @Test
    void withNoLimitAChunkMayHoldAnyNumberOfRows() {
        assertThat(pacer(Duration.ZERO, null, null).maxRows()).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void aChunkPaysForTheRowsItWroteNotForItsPlannedSize() {
        // The rate's bucket keeps real time (Resilience4j): at 1000 rows a second, 300 rows take two refills of a
        // tenth of a second after the first slice, counted from the bucket's start; only a lower bound is asserted,
        // which a loaded machine keeps.
        long before = System.nanoTime();
        Pacer pacer = pacer(Duration.ZERO, RowRateLimiter.of(1000), null);
        pacer.charge(0, 0); // the final empty probe
        assertThat(pacer.awaitTurn()).isTrue();
        assertThat(observer.waited).as("nothing to pay").isEmpty();
        pacer.charge(300, 0);
        assertThat(pacer.awaitTurn()).isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - before)).isGreaterThanOrEqualTo(Duration.ofMillis(100));
        assertThat(observer.waited).singleElement().asString().startsWith("rate ");
    }
}
