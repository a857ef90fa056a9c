package dev.sluice.engine.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import dev.sluice.engine.ControlRequest;
import dev.sluice.engine.StopSignal;
import dev.sluice.engine.checkpoint.JobRuns;
import dev.sluice.engine.testing.DatabaseTest;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Operators' requests wait in the mailbox until the runner takes them; a newer request replaces an older one. */
class ControlMailboxTest extends DatabaseTest {

    private ControlMailbox mailbox;

    @BeforeEach
    void mailbox() throws Exception {
        JobRuns runs = new JobRuns(ds, "sluice");
        runs.ensureSchema();
        mailbox = runs.mailbox();
    }

    @Test
    void requestsWaitPerJobUntilTakenAndANewerOneReplacesAnOlderOne() throws Exception {
        assertThat(mailbox.pending("a")).isFalse();
        mailbox.send("a", new ControlRequest(ControlRequest.Command.TUNE, 100L, null), "op1", null);
        mailbox.send("a", new ControlRequest(ControlRequest.Command.TUNE, 0L, Duration.ofMillis(80)), "op2", null);
        mailbox.send("a", new ControlRequest(ControlRequest.Command.PAUSE, null, null), "op1", null);
        mailbox.send("b", new ControlRequest(ControlRequest.Command.CANCEL, null, null), "op1", null);
        assertThat(mailbox.pending("a")).isTrue();

        assertThat(mailbox.take("a"))
                .containsExactlyInAnyOrder(
                        new ControlRequest(ControlRequest.Command.TUNE, 0L, Duration.ofMillis(80)),
                        new ControlRequest(ControlRequest.Command.PAUSE, null, null));
        assertThat(mailbox.pending("a")).isFalse();
        assertThat(mailbox.take("a")).isEmpty();
        assertThat(mailbox.take("b")).containsExactly(new ControlRequest(ControlRequest.Command.CANCEL, null, null));
    }

    @Test
    void aRunnerStartingTakesAWaitingTuneAndDropsAStopNoRunnerTook() throws Exception {
        mailbox.send("a", new ControlRequest(ControlRequest.Command.TUNE, 42L, null), "op", null);
        mailbox.send("a", new ControlRequest(ControlRequest.Command.PAUSE, null, null), "op", null);
        StopSignal stop = new StopSignal();
        Long[] tuned = new Long[1];
        try (ControlPoller poller = new ControlPoller(mailbox, "a", stop, r -> tuned[0] = r.rowsPerSecond())) {
            assertThat(tuned[0]).isEqualTo(42L);
            assertThat(stop.requested())
                    .as("a pause left from before this runner")
                    .isFalse();
            mailbox.send("a", new ControlRequest(ControlRequest.Command.PAUSE, null, null), "op", null);
            dev.sluice.engine.testing.Eventually.eventually(Duration.ofSeconds(10), "the pause taken", stop::requested);
            assertThat(stop.reason()).isEqualTo(StopSignal.PAUSE);
        }
    }
}
