package dev.sluice.engine.checkpoint;

import dev.sluice.engine.chunk.Failures;

import dev.sluice.engine.chunk.ChunkLoop;
import dev.sluice.engine.chunk.ChunkObserver;
import dev.sluice.engine.chunk.ChunkTimeouts;
import dev.sluice.engine.control.ControlMailbox;
import dev.sluice.engine.control.ControlPoller;
import dev.sluice.engine.control.RunnerLock;
import dev.sluice.engine.control.StopSignal;
import dev.sluice.engine.health.HealthGates;
import dev.sluice.engine.preflight.Prepared;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.throttle.ChunkSizer;
import dev.sluice.engine.throttle.Pacer;
import dev.sluice.engine.throttle.RowRateLimiter;

import io.micrometer.observation.ObservationRegistry;

import org.springframework.batch.core.ExitStatus;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.listener.JobExecutionListener;
import org.springframework.batch.core.listener.StepExecutionListener;
import org.springframework.batch.core.step.Step;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.core.step.builder.StepBuilder;
import org.springframework.batch.infrastructure.item.ExecutionContext;

/**
 * Assembles a prepared spec into a Spring Batch job: one TaskletStep named {@value #STEP} whose tasklet applies a
 * chunk per call, paced by the throttle and health gates, retried on transient errors by the step's exception
 * handler, with listeners that record the spec with the job and the last error with the step.
 */
public final class BackfillJob {

    private BackfillJob() {
    }

    /** What a run brings besides the spec: how to stop it, who watches it, and the connection to standbys. */
    public record Wiring(RunnerLock lock, StopSignal stop, ChunkObserver observer, HealthGates gates,
                         Pacer.Observer pacerObserver, ObservationRegistry observations) {
    }

    static Job assemble(CheckpointStore store, Work work, Wiring wiring) {
        Prepared prepared = work.prepared();
        JobSpec spec = prepared.spec();
        JobSpec.Chunk c = spec.chunk();
        ChunkSizer sizer = new ChunkSizer(c.rows(), c.target(), c.minRows(), c.maxRows());
        // The rate is set as the job starts: the spec's, or an operator's tune that outlives a pause.
        Pacer pacer = new Pacer(spec.throttle().pause(), RowRateLimiter.of(work.rowsPerSecond()), wiring.gates(),
                wiring.stop());
        ChunkRetry retry = new ChunkRetry(spec.name(), sizer, wiring.observer());
        ChunkLoop loop = new ChunkLoop(work.source(), work.writer(), work.ledger(),
                work.checks(), new ChunkTimeouts(spec.timeouts().lock(), spec.timeouts().statement()), sizer, pacer,
                wiring.lock()::verify, wiring.observer());
        ChunkLoopTasklet tasklet = new ChunkLoopTasklet(store.dataSource(), loop, retry, wiring.stop());
        ControlMailbox mailbox = new ControlMailbox(store.dataSource(), store.schema());
        ControlPoller[] poller = new ControlPoller[1];
        Step step = new StepBuilder(work.kind().step, store.repository())
                .observationRegistry(wiring.observations())
                .tasklet(tasklet, store.transactionManager())
                .exceptionHandler(retry)
                .listener(new StepExecutionListener() {
                    @Override
                    public void beforeStep(StepExecution stepExecution) {
                        ExecutionContext ec = stepExecution.getExecutionContext();
                        Checkpoint start = Checkpoint.from(ec).startingExecution(sizer.rows());
                        start.writeTo(ec);
                        RateSamples.start(ec, System.currentTimeMillis(), 0, 0);
                        Checkpoint.recordError(ec, null);
                        Checkpoint.recordStop(ec, null);
                        ThrottleRecorder recorder = new ThrottleRecorder(stepExecution.getJobExecution(),
                                store.repository(), store.transactionManager(), wiring.pacerObserver());
                        pacer.observe(recorder);
                        poller[0] = new ControlPoller(mailbox, spec.name(), wiring.stop(), request -> {
                            if (request.rowsPerSecond() != null) {
                                pacer.rowsPerSecond(request.rowsPerSecond());
                                recorder.tuned(request.rowsPerSecond(), work.rowsPerSecond());
                            }
                            if (request.chunkTarget() != null) {
                                sizer.target(request.chunkTarget());
                            }
                        });
                        wiring.observer().started(switch (work.kind()) {
                            case VALIDATION -> ChunkObserver.Phase.VALIDATION;
                            case ROLLBACK -> ChunkObserver.Phase.ROLLBACK;
                            default -> ChunkObserver.Phase.BACKFILL;
                        }, prepared.estimatedRows(), start.rows());
                    }

                    @Override
                    public ExitStatus afterStep(StepExecution stepExecution) {
                        if (poller[0] != null) {
                            poller[0].close();
                        }
                        // Spring Batch saves the context once more after this, with the last committed checkpoint.
                        if (!stepExecution.getFailureExceptions().isEmpty()) {
                            Checkpoint.recordError(stepExecution.getExecutionContext(),
                                    Failures.describe(stepExecution.getFailureExceptions().get(0)));
                        }
                        return null;
                    }
                })
                .build();
        return new JobBuilder(work.jobName(), store.repository())
                .observationRegistry(wiring.observations())
                .start(step)
                .listener(new JobExecutionListener() {
                    @Override
                    public void beforeJob(JobExecution jobExecution) {
                        ExecutionContext ec = jobExecution.getExecutionContext();
                        ec.remove("batch.recovered");
                        ThrottleRecorder.clear(ec);
                        JobRecord.write(ec, spec, prepared.estimatedRows());
                        pacer.rowsPerSecond(JobRecord.startingLimit(ec, work.rowsPerSecond()));
                        store.repository().updateExecutionContext(jobExecution);
                    }

                    @Override
                    public void afterJob(JobExecution jobExecution) {
                        ThrottleRecorder.clear(jobExecution.getExecutionContext());
                    }
                })
                .build();
    }
}
