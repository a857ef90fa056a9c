package dev.sluice.engine.checkpoint;

import java.time.Duration;

import dev.sluice.engine.ChunkObserver;
import dev.sluice.engine.ChunkReport;
import dev.sluice.engine.throttle.Pacer;

/**
 * Observers told by several partitions at once, one call at a time: progress displays, metrics and the throttle
 * record are written for one runner thread, and their calls are short.
 */
final class Serialized {

    private Serialized() {}

    static ChunkObserver of(ChunkObserver o) {
        Object lock = new Object();
        return new ChunkObserver() {
            @Override
            public void chunkCommitted(ChunkReport report) {
                synchronized (lock) {
                    o.chunkCommitted(report);
                }
            }

            @Override
            public void started(Phase phase, long estimatedRows, long rowsDone) {
                synchronized (lock) {
                    o.started(phase, estimatedRows, rowsDone);
                }
            }

            @Override
            public void chunkFailed(String error, int attempt) {
                synchronized (lock) {
                    o.chunkFailed(error, attempt);
                }
            }

            @Override
            public void reconnecting(String why, int attempt, Duration limit) {
                synchronized (lock) {
                    o.reconnecting(why, attempt, limit);
                }
            }
        };
    }

    static Pacer.Observer of(Pacer.Observer o) {
        Object lock = new Object();
        return new Pacer.Observer() {
            @Override
            public void throttled(String reason) {
                synchronized (lock) {
                    o.throttled(reason);
                }
            }

            @Override
            public void unthrottled(long waitedNanos) {
                synchronized (lock) {
                    o.unthrottled(waitedNanos);
                }
            }

            @Override
            public void waited(String reason, long nanos) {
                synchronized (lock) {
                    o.waited(reason, nanos);
                }
            }
        };
    }
}
