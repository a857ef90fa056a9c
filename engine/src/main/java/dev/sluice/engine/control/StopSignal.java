package dev.sluice.engine.control;

import java.util.concurrent.atomic.AtomicReference;

/**
 * A request to stop a running job after its current chunk, from a signal handler or an operator. The runner
 * checks it between chunks only, so a chunk is never cut short by it.
 */
public final class StopSignal {

    private final AtomicReference<String> reason = new AtomicReference<>();

    /** Asks the job to stop; the first reason given is kept. */
    public void request(String why) {
        reason.compareAndSet(null, why);
    }

    public boolean requested() {
        return reason.get() != null;
    }

    public String reason() {
        return reason.get();
    }
}
