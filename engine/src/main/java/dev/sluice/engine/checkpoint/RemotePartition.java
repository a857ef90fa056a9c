package dev.sluice.engine.checkpoint;

import java.sql.SQLException;
import java.time.Duration;

import dev.sluice.engine.ChunkObserver;
import dev.sluice.engine.StopSignal;
import dev.sluice.engine.chunk.Failures;
import dev.sluice.engine.control.Reconnection;
import dev.sluice.engine.control.RemoteRuns;
import dev.sluice.engine.health.HealthGates;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.throttle.Pacer;
import dev.sluice.engine.throttle.RowRateLimiter;

import io.micrometer.observation.ObservationRegistry;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.JobInterruptedException;
import org.springframework.batch.core.step.Step;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.dao.OptimisticLockingFailureException;

/**
 * The step a {@code sluice worker} runs for a partition sent to it: the same {@link PartitionWorker} and chunk loop as
 * a local partition, on the partition's own step execution in the job repository, so its checkpoint still commits with
 * each chunk. Around it:
 *
 * <ul>
 *   <li>the partition's lock ({@link RemoteRuns#take}): no partition runs twice at once. A partition whose lock another
 *       worker holds is waited for, up to a lease, then left to it;
 *   <li>the step execution read again under the lock: a partition sent again after its worker died continues from the
 *       checkpoint its last chunk committed; one that ended meanwhile, or whose run ended, is dropped;
 *   <li>a governor, every half second on the lock's connection: beats the lease's heartbeat, and takes the runner's
 *       orders: its stop (an operator's pause or cancel, a signal, another partition's failure), the job's rate shared
 *       among the partitions working now, an operator's chunk target. A runner that is gone stops the partition.
 * </ul>
 */
public final class RemotePartition implements Step {

    /** The name the runner's requests give this step. */
    public static final String STEP = "sluice.partition";

    private static final Logger LOG = LoggerFactory.getLogger(RemotePartition.class);
    private static final long GOVERN_EVERY_MILLIS = 500;

    /** What a worker prepares for a job from the spec recorded with its run. */
    public interface Jobs {
        /** The backfill of {@code spec} (the spec recorded with the run), prepared against this worker's database. */
        Work backfill(JobSpec spec) throws SQLException;

        /** The job's health gates, read by this worker; closed when the partition ends. */
        HealthGates gates(Work work);

        /** Who is told of the partition's chunks on this worker. */
        ChunkObserver observer(String job);
    }

    private final CheckpointStore store;
    private final RemoteRuns runs;
    private final Jobs jobs;
    private final Duration lease;
    private final StopSignal shutdown;

    /**
     * @param lease    how long a worker's heartbeat may be silent before the runner sends its partition again
     * @param shutdown the worker's own stop: its partitions stop after their chunk and are handed back to the runner,
     *                 which sends them to another worker (the job goes on)
     */
    public RemotePartition(CheckpointStore store, Jobs jobs, Duration lease, StopSignal shutdown) {
        this.store = store;
        this.shutdown = shutdown;
        this.runs = new RemoteRuns(store.dataSource(), store.schema());
        this.jobs = jobs;
        this.lease = lease;
    }

    @Override
    public String getName() {
        return STEP;
    }

    @Override
    public void execute(StepExecution sent) throws JobInterruptedException {
        String job = sent.getJobExecution().getJobInstance().getJobName();
        String part = sent.getStepName();
        long id = sent.getId();
        long jobExecutionId = sent.getJobExecutionId();
        RemoteRuns.Hold hold;
        try {
            hold = take(job, part, id, jobExecutionId);
        } catch (SQLException e) {
            LOG.warn("job {}: cannot take partition {}: {}", job, part, Failures.describe(e));
            return; // its lease lapses unclaimed, and the runner sends it again
        }
        if (hold == null) {
            return;
        }
        try (hold) {
            try {
                // Read again under the lock: what the request's handler read may be older than the last chunk
                // committed.
                StepExecution partition = store.repository().getStepExecution(id);
                JobExecution run = partition == null ? null : store.repository().getJobExecution(jobExecutionId);
                if (partition == null || run == null || !partition.getStatus().isRunning() || !run.isRunning()) {
                    LOG.info("job {}: partition {} has ended already; dropped", job, part);
                    return;
                }
                Prepared prepared;
                try {
                    prepared = prepare(job, run);
                } catch (SQLException | RuntimeException e) {
                    if (Reconnection.isLost(e) || !hold.alive()) {
                        throw e;
                    }
                    // It cannot run on any worker as it is (a transformer missing here, a spec preflight refuses):
                    // failed, with why, rather than sent again and again.
                    fail(partition, Failures.describe(e));
                    LOG.warn("job {}: partition {} cannot run on this worker: {}", job, part, Failures.describe(e));
                    return;
                }
                work(job, part, partition, run, hold, prepared);
            } catch (OptimisticLockingFailureException e) {
                // The partition's execution was written since this worker read it: its run was recovered by a runner
                // that reconnected (and goes on with a new execution), or it went to another worker.
                LOG.info("job {}: partition {} moved on without this worker; dropped", job, part);
            } catch (SQLException | RuntimeException e) {
                if (Reconnection.isLost(e) || !hold.alive()) {
                    LOG.warn(
                            "job {}: partition {} lost the database ({}); its runner sends it again",
                            job,
                            part,
                            Failures.firstLine(Failures.describe(e)));
                } else {
                    LOG.warn("job {}: partition {} failed: {}", job, part, Failures.describe(e));
                }
            }
        }
    }

    /** What a partition of a run needs on this worker: its work, prepared from the spec recorded with the run. */
    private record Prepared(JobSpec spec, Work work) {}

    private Prepared prepare(String job, JobExecution run) throws SQLException {
        JobSpec spec = JobRecord.spec(run.getExecutionContext());
        if (spec == null) {
            throw new IllegalStateException("job " + job + "'s run records no spec");
        }
        return new Prepared(spec, jobs.backfill(spec));
    }

    /** A partition that cannot run as it is: FAILED with why, under this worker's lock, so that its run fails too. */
    private void fail(StepExecution partition, String why) {
        Checkpoint.recordError(partition.getExecutionContext(), why);
        partition.setStatus(BatchStatus.FAILED);
        partition.setExitStatus(org.springframework.batch.core.ExitStatus.FAILED.addExitDescription(why));
        partition.setEndTime(java.time.LocalDateTime.now(java.time.ZoneId.systemDefault()));
        store.repository().updateExecutionContext(partition);
        store.repository().update(partition);
    }

    private void work(
            String job, String part, StepExecution partition, JobExecution run, RemoteRuns.Hold hold, Prepared prepared)
            throws JobInterruptedException {
        JobSpec spec = prepared.spec();
        Work work = prepared.work();
        StopSignal stop = shutdown.child();
        // A partition this worker lets go (it stops, or only its lock's connection was lost) is saved as still running,
        // never as stopped or failed on the way: the runner, finding its lock free, sends it to another worker, and
        // the run goes on.
        boolean[] handedBack = {false};
        CheckpointStore handing = store.withRepository(HandBack.repository(store.repository(), partition.getId(), e -> {
            boolean handBack = (e.getStatus() == BatchStatus.STOPPED && shutdown.requested())
                    || (e.getStatus() == BatchStatus.FAILED && lostLock(e) && !hold.alive());
            handedBack[0] |= handBack;
            return handBack;
        }));
        try (HealthGates gates = jobs.gates(work)) {
            Pacer pacer = new Pacer(
                    spec.throttle().pause(),
                    RowRateLimiter.of(spec.throttle().rowsPerSecond()),
                    RowRateLimiter.of(spec.throttle().walBytesPerSecond().bytes()),
                    gates,
                    stop);
            BackfillJob.Wiring wiring = new BackfillJob.Wiring(
                    null, stop, jobs.observer(job), gates, Pacer.Observer.NONE, ObservationRegistry.NOOP);
            PartitionWorker worker =
                    new PartitionWorker(handing, work, wiring, pacer, wiring.observer(), stop, hold::verify);
            Governor governor = new Governor(job, part, run.getId(), hold, stop, pacer, worker);
            // The first orders before the first chunk: a run already stopping, the rate's share.
            governor.govern();
            Thread thread = new Thread(governor, "sluice-govern-" + part);
            thread.setDaemon(true);
            thread.start();
            LOG.info("job {}: partition {} taken (step execution {})", job, part, partition.getId());
            try {
                worker.execute(partition);
            } finally {
                thread.interrupt();
            }
            BatchStatus status = partition.getStatus();
            if (handedBack[0]) {
                LOG.info(
                        "job {}: partition {} handed back at its checkpoint ({})",
                        job,
                        part,
                        shutdown.requested() ? shutdown.reason() : "this worker lost its lock's connection");
                return;
            }
            LOG.info(
                    "job {}: partition {} {}{}",
                    job,
                    part,
                    status.name().toLowerCase(java.util.Locale.ROOT),
                    stop.requested() ? " (" + stop.reason() + ")" : "");
        }
    }

    private static boolean lostLock(StepExecution e) {
        for (Throwable t : e.getFailureExceptions()) {
            for (Throwable c = t; c != null; c = c.getCause()) {
                if (c instanceof dev.sluice.engine.control.RunnerLock.Lost) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The partition's lock: waited for while another session holds it and the partition still runs (a worker that
     * lost the database may hold it until its session is found dead), at most a lease.
     */
    private RemoteRuns.Hold take(String job, String part, long id, long jobExecutionId) throws SQLException {
        long deadline = System.nanoTime() + lease.toNanos();
        while (true) {
            if (shutdown.requested()) {
                return null; // this worker stops: the runner sends the partition to another
            }
            RemoteRuns.Hold hold = runs.take(job, part, id, jobExecutionId);
            if (hold != null) {
                return hold;
            }
            StepExecution now = store.repository().getStepExecution(id);
            if (now == null || !now.getStatus().isRunning()) {
                return null;
            }
            if (System.nanoTime() > deadline) {
                LOG.info("job {}: partition {} is held by another worker; left to it", job, part);
                return null;
            }
            try {
                Thread.sleep(GOVERN_EVERY_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
    }

    /** The partition's side of the runner's orders. */
    private final class Governor implements Runnable {
        private final String job;
        private final String part;
        private final long jobExecutionId;
        private final RemoteRuns.Hold hold;
        private final StopSignal stop;
        private final Pacer pacer;
        private final PartitionWorker worker;
        private Duration target;
        private int runnerMissed;

        Governor(
                String job,
                String part,
                long jobExecutionId,
                RemoteRuns.Hold hold,
                StopSignal stop,
                Pacer pacer,
                PartitionWorker worker) {
            this.job = job;
            this.part = part;
            this.jobExecutionId = jobExecutionId;
            this.hold = hold;
            this.stop = stop;
            this.pacer = pacer;
            this.worker = worker;
        }

        @Override
        public void run() {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(GOVERN_EVERY_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
                govern();
            }
        }

        void govern() {
            RemoteRuns.View view;
            try {
                view = hold.beat(runs, jobExecutionId, lease);
            } catch (SQLException e) {
                // The lock's session is gone: the next chunk's check stops the partition (its lock may be another's).
                LOG.debug("job {}: partition {}: no heartbeat: {}", job, part, e.getMessage());
                return;
            }
            if (view == null) {
                stop.request("stopped: partition " + part + " was sent to another worker (this one's lease lapsed)");
                return;
            }
            RemoteRuns.Orders orders = view.orders();
            // A runner is gone when its lock is: twice in a row, so that a read racing the lock's own start is no sign.
            runnerMissed = view.runnerAlive() ? 0 : runnerMissed + 1;
            if (orders == null || runnerMissed >= 2) {
                stop.request("stopped: the run of partition " + part + " has ended (its runner is gone)");
                return;
            }
            if (orders.stopReason() != null) {
                stop.request(orders.stopReason());
            }
            int sharing = Math.max(1, view.working());
            pacer.rowsPerSecond(share(orders.rowsPerSecond(), sharing));
            pacer.walBytesPerSecond(share(orders.walBytesPerSecond(), sharing));
            if (orders.chunkTarget() != null && !orders.chunkTarget().equals(target)) {
                target = orders.chunkTarget();
                worker.target(target);
            }
        }
    }

    /** A partition's share of a job's rate (0 stays unlimited; a share is never below one a second). */
    static long share(long rate, int partitions) {
        return rate <= 0 ? 0 : Math.max(1, rate / partitions);
    }
}
