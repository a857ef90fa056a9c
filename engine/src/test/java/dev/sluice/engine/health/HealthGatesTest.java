package dev.sluice.engine.health;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

/** The gate logic on its own, driven by a scripted signal and a hand-moved clock. */
class HealthGatesTest {

    /** A signal whose next reading the test sets; {@code null} means it cannot be read. */
    private static final class Scripted implements Signal {
        Double lag = 0.0;

        @Override
        public String name() {
            return "scripted";
        }

        @Override
        public List<Reading> read() throws SQLException {
            if (lag == null) {
                throw new SQLException("connection refused");
            }
            return List.of(new Reading("replica r1", "replay lag", lag, 10, false));
        }
    }

    private final Scripted signal = new Scripted();
    private final AtomicLong now = new AtomicLong();
    private final HealthGates gates = new HealthGates(List.of(signal), Duration.ofSeconds(1), now::get);

    private String at(long seconds, Double lag) {
        now.set(Duration.ofSeconds(seconds).toNanos());
        signal.lag = lag;
        return gates.closedReason();
    }

    @Test
    void closesOverTheLimitAndOpensOnlyBelowHalfOfIt() {
        assertThat(at(0, 9.0)).isNull();
        assertThat(at(1, 10.5)).isEqualTo("replica r1 replay lag 10.5s > 10.0s");
        assertThat(at(2, 8.0)).contains("waiting for < half the limit");
        assertThat(at(3, 5.0)).as("exactly half is not below half").isNotNull();
        assertThat(at(4, 4.9)).isNull();
        assertThat(at(5, 9.9)).as("open again: only over the limit closes").isNull();
    }

    @Test
    void readsNoMoreOftenThanThePollInterval() {
        assertThat(at(0, 0.0)).isNull();
        now.set(Duration.ofMillis(500).toNanos());
        signal.lag = 50.0;
        assertThat(gates.closedReason())
                .as("half a poll later: the last reading stands")
                .isNull();
        now.set(Duration.ofSeconds(1).toNanos());
        assertThat(gates.closedReason()).isNotNull();
    }

    @Test
    void failsClosedFromTheFirstReadThatFails() {
        assertThat(at(0, 1.0)).isNull();
        assertThat(gates.unreadable()).isFalse();
        assertThat(at(1, null))
                .as("one failed read closes the gates")
                .isEqualTo("cannot read scripted: connection refused");
        assertThat(gates.unreadable()).isTrue();
        assertThat(at(2, null)).isEqualTo("cannot read scripted: connection refused");
        assertThat(at(3, 1.0)).as("readable again, under the limit").isNull();
        assertThat(gates.unreadable()).isFalse();
    }

    @Test
    void aGateClosedBeforeTheSignalWentUnreadableKeepsItsHysteresis() {
        assertThat(at(0, 20.0)).isNotNull();
        assertThat(at(1, null)).isEqualTo("cannot read scripted: connection refused");
        assertThat(at(2, 8.0))
                .as("readable again, but not yet under half the limit")
                .contains("waiting for < half the limit");
        assertThat(at(3, 4.0)).isNull();
    }

    @Test
    void aSignalThatCannotBeReadAtTheStartClosesAtOnce() {
        assertThat(at(0, null)).isEqualTo("cannot read scripted: connection refused");
    }
}
