package dev.sluice.engine.control;

import java.util.concurrent.atomic.AtomicReference;

/**
 * A request to stop a running job after its current chunk, from a signal handler or an operator. The runner
 * checks it between chunks only, so a chunk is never cut short by it.
 */
public final class StopSignal {

    /** The reason an operator's {@code sluice pause} gives. */
    public static final String PAUSE = "paused by an operator";
    /** The reason an operator's {@code sluice cancel} gives. */
    public static final String CANCEL = "cancelled by an operator";

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
