package dev.sluice.boot;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.StopSignal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * The application as a remote worker ({@code sluice.worker.threads} above 0): it takes partitions of the database's
 * {@code workers: remote} jobs, as {@code sluice worker} does, from when the application is ready until it shuts down;
 * then the partitions it runs stop after their chunk and are handed back, so that other workers continue them.
 */
public final class SluiceWorker implements SmartLifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(SluiceWorker.class);
    // How long shutdown waits for the running partitions' chunks to end and be handed back.
    private static final long HAND_BACK_MILLIS = 30_000;

    private final Backfill backfill;
    private final int threads;
    private volatile StopSignal stop;
    private volatile Thread thread;

    public SluiceWorker(Backfill backfill, int threads) {
        this.backfill = backfill;
        this.threads = threads;
    }

    @Override
    public synchronized void start() {
        if (thread != null) {
            return;
        }
        StopSignal signal = new StopSignal();
        Thread t = new Thread(
                () -> {
                    try {
                        backfill.work(RunOptions.defaults().withStop(signal), threads);
                    } catch (Exception e) {
                        LOG.error("sluice worker stopped: {}", e.getMessage());
                    }
                },
                "sluice-worker");
        t.setDaemon(true);
        stop = signal;
        thread = t;
        t.start();
    }

    @Override
    public synchronized void stop() {
        if (thread == null) {
            return;
        }
        stop.request("the application is shutting down");
        try {
            thread.join(HAND_BACK_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        thread = null;
    }

    @Override
    public boolean isRunning() {
        return thread != null;
    }

    /** Started after the application's own beans (its migrations among them), stopped before them. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 1;
    }
}
