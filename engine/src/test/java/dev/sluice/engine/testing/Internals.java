package dev.sluice.engine.testing;

import java.sql.SQLException;

import javax.sql.DataSource;

import dev.sluice.engine.control.RunnerLock;
import dev.sluice.engine.health.Reading;
import dev.sluice.engine.metrics.JobMetrics;
import dev.sluice.engine.metrics.JobStateMetrics;
import dev.sluice.engine.sync.SyncInstaller;

import io.micrometer.core.instrument.MeterRegistry;

/**
 * The engine's internals that the other modules' tests stage a situation with (another runner holding a job, a
 * replica's readings on the dashboard, a trigger dropped at the worst moment). Their code uses the public packages
 * only; their tests reach the internals through here, so that what they rely on is listed in one place.
 */
public final class Internals {

    private Internals() {}

    /** Takes job {@code job}'s runner lock as another runner would; null when a runner holds it already. */
    public static AutoCloseable holdRunnerLock(DataSource ds, String job) throws SQLException {
        return RunnerLock.tryAcquire(ds, job);
    }

    /** Feeds a job's meters one replica's two readings (its replay lag in seconds and in bytes) as the gates would. */
    public static void replicaReadings(
            MeterRegistry registry,
            String job,
            String replica,
            double lagSeconds,
            double limitSeconds,
            double lagBytes,
            double limitBytes) {
        new JobMetrics(registry, job, new JobStateMetrics(registry))
                .readings(java.util.List.of(
                        new Reading("replica " + replica, "replay lag", lagSeconds, limitSeconds, false),
                        new Reading("replica " + replica, "replay lag", lagBytes, limitBytes, true)));
    }

    /**
     * Drops job {@code job}'s sync trigger without draining its key log first, as {@code finish} would if keys
     * arrived between its drain and its drop.
     *
     * @return true when the drop was refused because keys wait in the log (nothing dropped), false when it dropped
     */
    public static boolean dropSyncRefusedForWaitingKeys(DataSource ds, String job) throws Exception {
        try {
            new SyncInstaller("sluice", warning -> {}).drop(ds, null, job, SyncInstaller.FinalDrain.NONE);
            return false;
        } catch (SyncInstaller.KeysWaiting e) {
            return true;
        }
    }
}
