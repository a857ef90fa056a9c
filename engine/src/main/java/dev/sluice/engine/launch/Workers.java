package dev.sluice.engine.launch;

import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.sluice.engine.ChunkObserver;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.StopSignal;
import dev.sluice.engine.checkpoint.CheckpointStore;
import dev.sluice.engine.checkpoint.RemotePartition;
import dev.sluice.engine.checkpoint.Work;
import dev.sluice.engine.fleet.RemotePartitions;
import dev.sluice.engine.fleet.Worker;
import dev.sluice.engine.health.HealthGates;
import dev.sluice.engine.spec.JobSpec;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code worker} verb: takes partitions of remote-partitioned jobs ({@code workers: remote}) from the job
 * repository's database until stopped, each prepared from the spec recorded with its run (preflight on this worker,
 * once per spec), with the job's health gates read here. Stopping it stops its partitions after their chunk and hands
 * them back, so that other workers continue them.
 */
public final class Workers {

    private static final Logger LOG = LoggerFactory.getLogger(Workers.class);

    /**
     * How long a worker's heartbeat may be silent before its partition is handed on. A worker that dies is seen at once
     * (its lock's session ends with it); the lease is for one cut off from the database, whose session lingers.
     */
    public static final Duration LEASE = Duration.ofSeconds(15);

    // How many jobs' prepared work a worker keeps (one per recorded spec it worked on).
    private static final int PREPARED_KEPT = 16;

    private Workers() {}

    /** How runners send partitions to workers. */
    public static RemotePartitions remote() {
        return new RemotePartitions(LEASE);
    }

    /**
     * Works partitions, {@code threads} at once, until {@code options.stop()} is requested; then hands back those it
     * runs (after their chunk) and returns.
     */
    public static void work(EngineContext context, RunOptions options, int threads) throws SQLException {
        CheckpointStore store = CheckpointStore.open(context.dataSource(), context.schema());
        StopSignal shutdown = options.stop();
        Map<JobSpec, Work> prepared = new ConcurrentHashMap<>();
        RemotePartition step = new RemotePartition(
                store,
                new RemotePartition.Jobs() {
                    @Override
                    public Work backfill(JobSpec spec) throws SQLException {
                        Work work = prepared.get(spec);
                        if (work == null) {
                            work = Work.backfill(context.prepare(spec));
                            if (prepared.size() >= PREPARED_KEPT) {
                                prepared.clear(); // prepared again when next asked: the catalog may have changed
                            }
                            prepared.put(spec, work);
                        }
                        return work;
                    }

                    @Override
                    public HealthGates gates(Work work) {
                        return HealthGates.forSpec(
                                work.prepared().spec().health(),
                                context.dataSource(),
                                options.standbys(),
                                work.prepared().written());
                    }

                    @Override
                    public ChunkObserver observer(String job) {
                        return options.observer();
                    }
                },
                LEASE,
                shutdown);
        Worker worker = new Worker(context.dataSource(), store, step, threads);
        LOG.info("worker: taking partitions of remote jobs, {} at a time", threads);
        try {
            while (!shutdown.requested()) {
                shutdown.sleepUntil(System.nanoTime() + 1_000_000_000L);
            }
            LOG.info("worker: stopping ({}); partitions running are handed back after their chunk", shutdown.reason());
        } finally {
            worker.close(LEASE.toMillis());
        }
    }
}
