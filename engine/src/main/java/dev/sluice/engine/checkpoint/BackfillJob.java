package dev.sluice.engine.checkpoint;

import java.sql.SQLException;
import java.util.Optional;

import dev.sluice.engine.ChunkObserver;
import dev.sluice.engine.StopSignal;
import dev.sluice.engine.control.ControlMailbox;
import dev.sluice.engine.control.ControlPoller;
import dev.sluice.engine.control.RunnerLock;
import dev.sluice.engine.control.Tuning;
import dev.sluice.engine.health.HealthGates;
import dev.sluice.engine.preflight.Prepared;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.throttle.Pacer;
import dev.sluice.engine.throttle.RowRateLimiter;

import io.micrometer.observation.ObservationRegistry;

import org.slf4j.LoggerFactory;
import org.springframework.batch.core.ExitStatus;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.listener.JobExecutionListener;
import org.springframework.batch.core.listener.StepExecutionListener;
import org.springframework.batch.core.partition.PartitionStep;
import org.springframework.batch.core.partition.support.TaskExecutorPartitionHandler;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.core.task.SimpleAsyncTaskExecutor;
import org.springframework.core.task.SyncTaskExecutor;
import org.springframework.core.task.TaskExecutor;

/**
 * Assembles a prepared spec into a Spring Batch job: one {@link PartitionStep} (named after the work: backfill,
 * validate, rollback) that cuts the key space into {@code parallel} key ranges ({@link KeyRangeSplitter}) and runs
 * each as a partition ({@link PartitionWorker}: a TaskletStep whose tasklet applies a chunk per call, retried on
 * transient errors by its exception handler) through a {@link TaskExecutorPartitionHandler}; all partitions share
 * the pacer (throttle and health gates), the stop signal and the runner lock. Listeners record the spec with the
 * job, and poll the operators' mailbox while the step runs.
 */
public final class BackfillJob {

    private BackfillJob() {}

    /**
     * What a run brings besides the spec: how to stop it, who watches it, and the connection to standbys.
     *
     * @param remote how partitions reach workers elsewhere ({@code workers: remote}), or null where there are none
     */
    public record Wiring(
            RunnerLock lock,
            StopSignal stop,
            ChunkObserver observer,
            HealthGates gates,
            Pacer.Observer pacerObserver,
            ObservationRegistry observations,
            Remote remote) {

        public Wiring(
                RunnerLock lock,
                StopSignal stop,
                ChunkObserver observer,
                HealthGates gates,
                Pacer.Observer pacerObserver,
                ObservationRegistry observations) {
            this(lock, stop, observer, gates, pacerObserver, observations, null);
        }
    }

    static Job assemble(CheckpointStore store, Work work, Wiring wiring) {
        Prepared prepared = work.prepared();
        JobSpec spec = prepared.spec();
        int parallel = work.parallel();
        // The rate is set as the job starts: the spec's, or an operator's tune that outlives a pause. One pacer
        // for all partitions: the rate limit and the health gates are the job's, its rows/s the partitions' sum.
        // The partitions' stop: an operator's or a signal's (wiring's), or a partition's failure (this job's alone).
        StopSignal stop = wiring.stop().child();
        Pacer pacer = new Pacer(
                spec.throttle().pause(),
                RowRateLimiter.of(work.rowsPerSecond()),
                work.checks()
                        ? null
                        : RowRateLimiter.of(spec.throttle().walBytesPerSecond().bytes()),
                wiring.gates(),
                stop);
        ChunkObserver observer = parallel == 1 ? wiring.observer() : Serialized.of(wiring.observer());
        PartitionWorker worker = new PartitionWorker(store, work, wiring, pacer, observer, stop, wiring.lock()::verify);
        ChunkObserver.Phase phase = switch (work.kind()) {
            case VALIDATION -> ChunkObserver.Phase.VALIDATION;
            case ROLLBACK -> ChunkObserver.Phase.ROLLBACK;
            default -> ChunkObserver.Phase.BACKFILL;
        };
        long[] estimated = {work.estimatedRows()}; // as recorded when the job starts (a rollback keeps its first)
        KeyRangeSplitter splitter = new KeyRangeSplitter(
                store.repository(), store.dataSource(), work.kind().step, work.source(), totals -> {
                    worker.started(totals.rows(), totals.chunks());
                    observer.started(phase, estimated[0], totals.rows());
                });
        RemoteHandler remote = remote(store, work, wiring, stop, pacer, observer);
        PartitionStep step = new PartitionStep(store.repository());
        step.setName(work.kind().step);
        step.setPartitionHandler(remote != null ? remote : local(worker, spec.name(), parallel));
        step.setStepExecutionSplitter(splitter);
        step.setObservationRegistry(wiring.observations());
        ControlMailbox mailbox = new ControlMailbox(store.dataSource(), store.schema());
        ControlPoller[] poller = new ControlPoller[1];
        step.registerStepExecutionListener(new StepExecutionListener() {
            @Override
            public void beforeStep(StepExecution stepExecution) {
                ThrottleRecorder recorder = new ThrottleRecorder(
                        stepExecution.getJobExecution(),
                        store.repository(),
                        store.transactionManager(),
                        wiring.pacerObserver());
                pacer.observe(parallel == 1 ? recorder : Serialized.of(recorder));
                poller[0] = new ControlPoller(mailbox, spec.name(), wiring.stop(), request -> {
                    if (request.rowsPerSecond() != null) {
                        pacer.rowsPerSecond(request.rowsPerSecond());
                        recorder.tuned(request.rowsPerSecond(), work.rowsPerSecond());
                        keepTune(store, spec, request.rowsPerSecond());
                    }
                    if (request.chunkTarget() != null) {
                        worker.target(request.chunkTarget());
                    }
                    if (remote != null) {
                        remote.run().tuned(pacer.rowsPerSecond(), request.chunkTarget());
                    }
                });
            }

            @Override
            public ExitStatus afterStep(StepExecution stepExecution) {
                if (poller[0] != null) {
                    poller[0].close();
                }
                return null;
            }
        });
        try {
            step.afterPropertiesSet();
        } catch (Exception e) {
            throw new IllegalStateException("cannot assemble the partition step: " + e.getMessage(), e);
        }
        return new JobBuilder(work.jobName(), store.repository())
                .observationRegistry(wiring.observations())
                .start(step)
                .listener(new JobExecutionListener() {
                    @Override
                    public void beforeJob(JobExecution jobExecution) {
                        ExecutionContext ec = jobExecution.getExecutionContext();
                        ec.remove("batch.recovered");
                        ThrottleRecorder.clear(ec);
                        estimated[0] = JobRecord.write(ec, work);
                        pacer.rowsPerSecond(startingLimit(store, work, ec));
                        store.repository().updateExecutionContext(jobExecution);
                    }

                    @Override
                    public void afterJob(JobExecution jobExecution) {
                        ThrottleRecorder.clear(jobExecution.getExecutionContext());
                    }
                })
                .build();
    }

    /**
     * The rate a work starts with: an operator's tune of the job, which holds for all its work until tuned again or the
     * spec's rate is edited (unless this run was given a rate of its own); else as recorded with the work's
     * executions (a tune of an earlier one, see {@link JobRecord#startingLimit}).
     */
    private static long startingLimit(CheckpointStore store, Work work, ExecutionContext ec) {
        JobSpec spec = work.prepared().spec();
        if (!work.rateGiven()) {
            try {
                Optional<Long> tuned = Tuning.read(store.dataSource(), store.schema(), spec.name())
                        .flatMap(t -> t.over(spec.throttle().rowsPerSecond()));
                if (tuned.isPresent()) {
                    JobRecord.tuned(ec, tuned.get(), work.rowsPerSecond());
                    return tuned.get();
                }
            } catch (SQLException e) {
                throw new IllegalStateException(
                        "cannot read job " + spec.name() + "'s tuned rate: " + e.getMessage(), e);
            }
        }
        return JobRecord.startingLimit(ec, work.rowsPerSecond());
    }

    /** An operator's tune taken by the running work: kept for the job's later work too. */
    private static void keepTune(CheckpointStore store, JobSpec spec, long rowsPerSecond) {
        try {
            Tuning.save(
                    store.dataSource(),
                    store.schema(),
                    spec.name(),
                    rowsPerSecond,
                    spec.throttle().rowsPerSecond(),
                    null);
        } catch (SQLException e) {
            LoggerFactory.getLogger(BackfillJob.class)
                    .warn("job {}: the tuned rate holds for this run only: {}", spec.name(), e.getMessage());
        }
    }

    /** A backfill whose spec says {@code workers: remote} sends its partitions to workers; other work stays here. */
    private static RemoteHandler remote(
            CheckpointStore store, Work work, Wiring wiring, StopSignal stop, Pacer pacer, ChunkObserver observer) {
        if (work.kind() != Work.Kind.BACKFILL
                || work.prepared().spec().workers() != JobSpec.Workers.REMOTE
                || wiring.remote() == null) {
            return null;
        }
        return new RemoteHandler(
                store,
                wiring.remote().open(store, work, stop, pacer),
                new RemoteProgress(store, observer),
                work.prepared().spec().parallel());
    }

    private static TaskExecutorPartitionHandler local(PartitionWorker worker, String job, int parallel) {
        TaskExecutorPartitionHandler handler = new TaskExecutorPartitionHandler();
        handler.setStep(worker);
        handler.setGridSize(parallel);
        handler.setTaskExecutor(executor(job, parallel));
        return handler;
    }

    /** One partition runs on the caller's thread; more run on threads of their own, {@code parallel} at a time. */
    private static TaskExecutor executor(String job, int parallel) {
        if (parallel == 1) {
            return new SyncTaskExecutor();
        }
        SimpleAsyncTaskExecutor executor = new SimpleAsyncTaskExecutor("sluice-" + job + "-");
        executor.setConcurrencyLimit(parallel);
        return executor;
    }
}
