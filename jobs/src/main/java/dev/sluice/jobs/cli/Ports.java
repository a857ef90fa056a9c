package dev.sluice.jobs.cli;

import dev.sluice.engine.spec.SpecException;

/** A TCP port an operator gives on the command line: 0 (any free one) to 65535. */
public final class Ports {

    private static final int MAX = 65_535;

    private Ports() {}

    /** @throws SpecException naming {@code option} (exit 2) if {@code port} is not a port */
    public static int check(String option, int port) {
        if (port < 0 || port > MAX) {
            throw new SpecException(option, "must be a port from 0 (any free one) to " + MAX + ", got " + port);
        }
        return port;
    }
}
