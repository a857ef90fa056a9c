package dev.sluice.engine;

import dev.sluice.engine.chunk.ChunkObserver;
import java.sql.DriverManager;

import dev.sluice.engine.control.StopSignal;
import dev.sluice.engine.health.StandbySignal;

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
 */
public record RunOptions(boolean again, boolean force, boolean resumeOnly, StopSignal stop, ChunkObserver observer,
                         StandbySignal.Connector standbys, MeterRegistry metrics) {

    public static RunOptions defaults() {
        return new RunOptions(false, false, false, new StopSignal(), ChunkObserver.NONE, DriverManager::getConnection, null);
    }

    public RunOptions withObserver(ChunkObserver o) {
        return new RunOptions(again, force, resumeOnly, stop, o, standbys, metrics);
    }

    public RunOptions withStop(StopSignal s) {
        return new RunOptions(again, force, resumeOnly, s, observer, standbys, metrics);
    }

    /** How to connect to the standbys listed in {@code health.replicas} (credentials). */
    public RunOptions withStandbys(StandbySignal.Connector c) {
        return new RunOptions(again, force, resumeOnly, stop, observer, c, metrics);
    }

    /** Meters for the run (and Spring Batch's job and step observations), or null for none. */
    public RunOptions withMetrics(MeterRegistry registry) {
        return new RunOptions(again, force, resumeOnly, stop, observer, standbys, registry);
    }

    public RunOptions again(boolean a) {
        return new RunOptions(a, force, resumeOnly, stop, observer, standbys, metrics);
    }

    public RunOptions force(boolean f) {
        return new RunOptions(again, f, resumeOnly, stop, observer, standbys, metrics);
    }

    public RunOptions resumeOnly(boolean r) {
        return new RunOptions(again, force, r, stop, observer, standbys, metrics);
    }
}
