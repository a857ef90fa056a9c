package dev.sluice.engine.chunk;

import java.util.concurrent.ThreadFactory;

/** Threads a runner starts beside its chunks (a read ahead, a watch): daemons, named for thread dumps. */
public final class DaemonThreads {

    private DaemonThreads() {}

    /** A factory of daemon threads called {@code name}. */
    public static ThreadFactory named(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
