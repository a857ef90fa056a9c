package dev.sluice.jobs.cli;

import dev.sluice.engine.StopSignal;

import sun.misc.Signal;

/**
 * SIGTERM and SIGINT ask the running job to stop after its current chunk, instead of killing the JVM mid-chunk
 * (which would be safe, but would leave the job STARTED rather than STOPPED). A second SIGINT is not special:
 * the chunk is short, and kill -9 is always there.
 */
final class Signals {

    private Signals() {}

    static void stopOnTermination(StopSignal stop) {
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(name), s -> {
                    if (!stop.requested()) { // a line of its own, not into the progress bar (ConsoleLine)
                        ConsoleLine.around(() -> System.err.println(
                                "sluice: SIG" + name + " received: stopping after" + " the current chunk"));
                    }
                    stop.request("SIG" + name);
                });
            } catch (IllegalArgumentException e) {
                // This platform or JVM does not let us handle the signal; its default stays.
            }
        }
    }
}
