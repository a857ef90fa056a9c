package dev.sluice.engine;

import java.sql.DriverManager;

import dev.sluice.engine.spi.Connector;

import io.micrometer.core.instrument.MeterRegistry;

/**
 * How to run a job.
 *
 * @param again      start a new execution of a job that has completed (or was cancelled)
 * @param force      resume even though the semantic fields changed since the job started
 * @param resumeOnly continue a FAILED or STOPPED job; refuse to start one that never ran
 * @param stop       checked between chunks; a request stops the job after its current chunk
 * @param observer   told of each committed chunk
 * @param standbys   connects to the standby URLs of {@code health.replicas}
 * @param metrics    where the run's meters go, or null
 * @param validateRowsPerSecond the validation's rate in rows checked per second for this run (0 = unlimited), or
 *                   null for the spec's
 */
public record RunOptions(
        boolean again,
        boolean force,
        boolean resumeOnly,
        StopSignal stop,
        ChunkObserver observer,
        Connector standbys,
        MeterRegistry metrics,
        Long validateRowsPerSecond) {

    public static RunOptions defaults() {
        return new RunOptions(
                false, false, false, new StopSignal(), ChunkObserver.NONE, DriverManager::getConnection, null, null);
    }

    /** Validation at this rate, in rows checked per second (0 = unlimited), whatever the spec says. */
    public RunOptions validateRowsPerSecond(Long rate) {
        return new RunOptions(again, force, resumeOnly, stop, observer, standbys, metrics, rate);
    }

    public RunOptions withObserver(ChunkObserver o) {
        return new RunOptions(again, force, resumeOnly, stop, o, standbys, metrics, validateRowsPerSecond);
    }

    public RunOptions withStop(StopSignal s) {
        return new RunOptions(again, force, resumeOnly, s, observer, standbys, metrics, validateRowsPerSecond);
    }

    /** How to connect to the standbys listed in {@code health.replicas} (credentials). */
    public RunOptions withStandbys(Connector c) {
        return new RunOptions(again, force, resumeOnly, stop, observer, c, metrics, validateRowsPerSecond);
    }

    /** Meters for the run (and Spring Batch's job and step observations), or null for none. */
    public RunOptions withMetrics(MeterRegistry registry) {
        return new RunOptions(again, force, resumeOnly, stop, observer, standbys, registry, validateRowsPerSecond);
    }

    public RunOptions again(boolean a) {
        return new RunOptions(a, force, resumeOnly, stop, observer, standbys, metrics, validateRowsPerSecond);
    }

    public RunOptions force(boolean f) {
        return new RunOptions(again, f, resumeOnly, stop, observer, standbys, metrics, validateRowsPerSecond);
    }

    public RunOptions resumeOnly(boolean r) {
        return new RunOptions(again, force, r, stop, observer, standbys, metrics, validateRowsPerSecond);
    }
}
