package dev.sluice.engine.control;

import java.time.Duration;
import java.util.Locale;
import java.util.function.Consumer;

import dev.sluice.engine.ControlRequest;
import dev.sluice.engine.StopSignal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes a running job's requests from the {@link ControlMailbox} in the background: pause and cancel become a
 * stop request (the job stops after its current chunk, or at once if it is waiting), tune changes the throttle
 * for the next chunks.
 */
public final class ControlPoller implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ControlPoller.class);
    // A request should land within a chunk; a primary-key DELETE twice a second costs the database nothing.
    static final Duration EVERY = Duration.ofMillis(500);

    private final Thread thread;
    private volatile boolean running = true;

    /**
     * Starts polling. Requests already waiting are taken first, before the first chunk: a throttle tuned while the
     * job was paused or stopped applies from its first chunk; a pause or cancel left behind by a runner that died
     * before taking it is dropped (the operator who resumes the job now means it to run).
     */
    public ControlPoller(ControlMailbox mailbox, String job, StopSignal stop, Consumer<ControlRequest> tune) {
        try {
            for (ControlRequest r : mailbox.take(job)) {
                if (r.command() == ControlRequest.Command.TUNE) {
                    tune.accept(r);
                    LOG.info("job {}: throttle tuned while it was not running applies now", job);
                } else {
                    LOG.info(
                            "job {}: dropping a {} request that no runner took",
                            job,
                            r.command().name().toLowerCase(Locale.ROOT));
                }
            }
        } catch (Exception e) {
            LOG.warn("job {}: cannot read operator requests: {}", job, e.getMessage());
        }
        this.thread = new Thread(
                () -> {
                    while (running) {
                        try {
                            for (ControlRequest r : mailbox.take(job)) {
                                switch (r.command()) {
                                    case PAUSE -> stop.request(StopSignal.PAUSE);
                                    case CANCEL -> stop.request(StopSignal.CANCEL);
                                    case TUNE -> tune.accept(r);
                                }
                                LOG.info(
                                        "job {}: {} requested",
                                        job,
                                        r.command().name().toLowerCase(Locale.ROOT));
                            }
                        } catch (Exception e) {
                            if (!running || Thread.currentThread().isInterrupted()) {
                                return; // closed while it waited for a connection: the run is over, nothing to report
                            }
                            if (Reconnection.isLost(e)) {
                                LOG.debug("job {}: cannot read operator requests while the database is away", job);
                            } else {
                                LOG.warn("job {}: cannot read operator requests: {}", job, e.getMessage());
                            }
                        }
                        try {
                            Thread.sleep(EVERY.toMillis());
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                },
                "sluice-control-" + job);
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
