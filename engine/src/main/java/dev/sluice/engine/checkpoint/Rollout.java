package dev.sluice.engine.checkpoint;

import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.sluice.engine.StopSignal;
import dev.sluice.engine.chunk.Failures;
import dev.sluice.engine.spec.FleetSpec;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.ExitStatus;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.JobInstance;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.job.builder.SimpleJobBuilder;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.job.parameters.JobParametersBuilder;
import org.springframework.batch.core.partition.PartitionStep;
import org.springframework.batch.core.partition.support.SimpleStepExecutionSplitter;
import org.springframework.batch.core.partition.support.TaskExecutorPartitionHandler;
import org.springframework.batch.core.step.Step;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.core.task.SimpleAsyncTaskExecutor;

/**
 * A fleet's rollout of one job, recorded in the coordinator's job repository as a Spring Batch job of its own ({@code
 * JOB.rollout}, its fleet an identifying parameter): a step per wave, whose partitions are the wave's targets (worked
 * {@code concurrency} at a time by local threads), with a pause step between waves. Each target's own job lives in
 * that target's database, as for a single run, so its exactly-once checkpoint is unchanged: a target's partition only
 * starts or continues it there. A target that fails or finds mismatches fails its partition, so its wave, so the
 * rollout, before the next wave; with {@code halt-on}, the other targets of the wave are stopped after their chunk and
 * those not started are left. Continued (a runner killed mid-rollout, a halted rollout once fixed), Spring Batch skips
 * the waves and targets that completed.
 */
public final class Rollout {

    /** The Spring Batch job of job {@code job}'s rollouts. */
    public static String jobName(String job) {
        return job + ".rollout";
    }

    private static final String FLEET = "fleet";
    // The fleet's targets in their waves, as a digest: a rollout is of one membership; a target added, or moved into
    // another wave, makes the next run a rollout of its own (each target's own job still knows what it has done).
    private static final String MEMBERS = "members";
    private static final String RUN = "run";
    private static final String TARGET = "sluice.target";
    private static final String WAVE = "sluice.wave";
    private static final String OUTCOME = "sluice.outcome";
    private static final String MESSAGE = "sluice.message";

    private Rollout() {}

    /** What a target's job came to. */
    public enum Outcome {
        DONE,
        FAILED,
        MISMATCHES,
        STOPPED,
        NOT_RUNNABLE,
        NOT_STARTED
    }

    /** A target's job, as the rollout ran it. */
    public record TargetRun(Outcome outcome, String message) {}

    /** Runs one target's job (starts it, or continues it from its checkpoint), stopping when {@code stop} is asked. */
    @FunctionalInterface
    public interface Targets {
        TargetRun run(String target, StopSignal stop) throws Exception;
    }

    /** Where a target stands in the rollout. */
    public record TargetState(String target, int wave, String status, Outcome outcome, String message) {}

    /** The rollout as recorded: its state, the execution's targets, and the target that halted it (or null). */
    public record State(String status, int executions, List<TargetState> targets, String haltedBy) {}

    /**
     * Starts the rollout of job {@code job} on {@code fleet}, or continues its last one; the caller holds the rollout's
     * lock.
     *
     * @param again start a new rollout even though the last completed
     */
    public static State run(
            CheckpointStore store, FleetSpec fleet, String job, Targets targets, StopSignal stop, boolean again)
            throws Exception {
        JobExecution last = last(store, fleet, job);
        JobParameters parameters;
        if (last != null && !members(fleet).equals(last.getJobParameters().getString(MEMBERS))) {
            // The fleet's targets or waves changed since: a rollout of the fleet as it is now.
            parameters = parameters(fleet, last.getJobParameters().getLong(RUN) + 1);
        } else if (last == null) {
            parameters = parameters(fleet, 1);
        } else if (last.getStatus() == BatchStatus.COMPLETED) {
            if (!again) {
                return read(store, fleet, job);
            }
            parameters = parameters(fleet, last.getJobParameters().getLong(RUN) + 1);
        } else {
            Recovery.makeRestartable(store, last);
            parameters = last.getJobParameters();
        }
        store.operator().start(assemble(store, fleet, job, targets, stop), parameters);
        return read(store, fleet, job);
    }

    private static JobParameters parameters(FleetSpec fleet, long run) {
        return new JobParametersBuilder()
                .addString(FLEET, fleet.name())
                .addString(MEMBERS, members(fleet))
                .addLong(RUN, run)
                .toJobParameters();
    }

    private static String members(FleetSpec fleet) {
        return dev.sluice.engine.keyset.Sql.digest(fleet.waves().toString(), 16);
    }

    private static Job assemble(CheckpointStore store, FleetSpec fleet, String job, Targets targets, StopSignal stop) {
        StopSignal halt = stop.child();
        List<List<String>> waves = fleet.waves();
        SimpleJobBuilder builder = null;
        for (int w = 0; w < waves.size(); w++) {
            Step wave = wave(store, fleet, w + 1, waves.get(w), targets, halt);
            if (builder == null) {
                builder = new JobBuilder(jobName(job), store.repository()).start(wave);
            } else {
                if (!fleet.rollout().pauseBetween().isZero()) {
                    builder = builder.next(new PauseStep(store, "pause-" + w, "wave-" + w, fleet, stop));
                }
                builder = builder.next(wave);
            }
        }
        return builder.build();
    }

    private static Step wave(
            CheckpointStore store, FleetSpec fleet, int number, List<String> names, Targets targets, StopSignal halt) {
        String name = "wave-" + number;
        SimpleStepExecutionSplitter splitter = new SimpleStepExecutionSplitter(store.repository(), name, size -> {
            Map<String, ExecutionContext> parts = new LinkedHashMap<>();
            for (String target : names) {
                ExecutionContext ec = new ExecutionContext();
                ec.putString(TARGET, target);
                ec.putInt(WAVE, number);
                parts.put(target, ec);
            }
            return parts;
        });
        TaskExecutorPartitionHandler handler = new TaskExecutorPartitionHandler();
        handler.setStep(new TargetStep(store, fleet, targets, halt));
        handler.setGridSize(names.size());
        SimpleAsyncTaskExecutor executor = new SimpleAsyncTaskExecutor("sluice-fleet-" + fleet.name() + "-");
        executor.setConcurrencyLimit(fleet.concurrency());
        handler.setTaskExecutor(executor);
        PartitionStep step = new PartitionStep(store.repository());
        step.setName(name);
        step.setStepExecutionSplitter(splitter);
        step.setPartitionHandler(handler);
        try {
            step.afterPropertiesSet();
        } catch (Exception e) {
            throw new IllegalStateException("cannot assemble wave " + number + ": " + e.getMessage(), e);
        }
        return step;
    }

    /**
     * A target's partition: runs the target's job there and records what it came to. Runs no transaction of the
     * coordinator's around it: a target's job can take hours, and a transaction held that long would hold back
     * vacuum in the coordinator's database (often a target's own).
     */
    private static final class TargetStep implements Step {
        private final CheckpointStore store;
        private final FleetSpec fleet;
        private final Targets targets;
        private final StopSignal halt;

        TargetStep(CheckpointStore store, FleetSpec fleet, Targets targets, StopSignal halt) {
            this.store = store;
            this.fleet = fleet;
            this.targets = targets;
            this.halt = halt;
        }

        @Override
        public String getName() {
            return "target";
        }

        @Override
        public void execute(StepExecution partition) {
            ExecutionContext ec = partition.getExecutionContext();
            String target = ec.getString(TARGET);
            partition.setStartTime(now());
            partition.setStatus(BatchStatus.STARTED);
            store.repository().update(partition);
            TargetRun ran;
            if (halt.requested()) {
                ran = new TargetRun(Outcome.NOT_STARTED, "not started: " + halt.reason());
            } else {
                try {
                    ran = targets.run(target, halt);
                } catch (Exception e) {
                    ran = new TargetRun(Outcome.FAILED, Failures.describe(e));
                }
            }
            BatchStatus status = switch (ran.outcome()) {
                case DONE -> BatchStatus.COMPLETED;
                case STOPPED, NOT_STARTED -> BatchStatus.STOPPED;
                default -> BatchStatus.FAILED;
            };
            boolean halts = ((ran.outcome() == Outcome.FAILED || ran.outcome() == Outcome.NOT_RUNNABLE)
                            && fleet.rollout().haltOn().contains(FleetSpec.HaltOn.FAILED))
                    || (ran.outcome() == Outcome.MISMATCHES
                            && fleet.rollout().haltOn().contains(FleetSpec.HaltOn.MISMATCHES));
            if (halts) {
                halt.request("the rollout halted at target " + target);
            }
            ec.putString(OUTCOME, ran.outcome().name());
            ec.putString(MESSAGE, ran.message() == null ? "" : ran.message());
            partition.setStatus(status);
            partition.setExitStatus(new ExitStatus(status.name(), ran.message() == null ? "" : ran.message()));
            partition.setEndTime(now());
            store.repository().updateExecutionContext(partition);
            store.repository().update(partition);
        }
    }

    /** The pause between two waves: from the end of the wave before, so a continued rollout waits only what is left. */
    private static final class PauseStep implements Step {
        private final CheckpointStore store;
        private final String name;
        private final String after;
        private final FleetSpec fleet;
        private final StopSignal stop;

        PauseStep(CheckpointStore store, String name, String after, FleetSpec fleet, StopSignal stop) {
            this.store = store;
            this.name = name;
            this.after = after;
            this.fleet = fleet;
            this.stop = stop;
        }

        @Override
        public String getName() {
            return name;
        }

        @Override
        public void execute(StepExecution pause) {
            pause.setStartTime(now());
            pause.setStatus(BatchStatus.STARTED);
            store.repository().update(pause);
            StepExecution wave = store.repository()
                    .getLastStepExecution(pause.getJobExecution().getJobInstance(), after);
            LocalDateTime from = wave == null || wave.getEndTime() == null ? now() : wave.getEndTime();
            Duration left = Duration.between(now(), from.plus(fleet.rollout().pauseBetween()));
            boolean waited = left.isNegative() || stop.sleepUntil(System.nanoTime() + left.toNanos());
            BatchStatus status = waited ? BatchStatus.COMPLETED : BatchStatus.STOPPED;
            pause.setStatus(status);
            pause.setExitStatus(new ExitStatus(status.name()));
            pause.setEndTime(now());
            store.repository().update(pause);
        }
    }

    private static LocalDateTime now() {
        return LocalDateTime.now(ZoneId.systemDefault());
    }

    private static JobExecution last(CheckpointStore store, FleetSpec fleet, String job) {
        List<JobInstance> instances = store.repository().getJobInstances(jobName(job), 0, Integer.MAX_VALUE);
        JobExecution newest = null;
        for (JobInstance instance : instances) {
            for (JobExecution e : store.repository().getJobExecutions(instance)) {
                if (fleet.name().equals(e.getJobParameters().getString(FLEET))
                        && (newest == null || e.getId() > newest.getId())) {
                    newest = e;
                }
            }
        }
        return newest;
    }

    /** The rollout of job {@code job} on {@code fleet} as recorded, or null if it never started. */
    public static State read(CheckpointStore store, FleetSpec fleet, String job) {
        JobExecution last = last(store, fleet, job);
        if (last == null) {
            return null;
        }
        // A target's latest partition, over every execution of this rollout (a continued one runs only what was left).
        Map<String, StepExecution> latest = new HashMap<>();
        int executions = 0;
        for (JobExecution e : store.repository().getJobExecutions(last.getJobInstance())) {
            executions++;
            JobExecution full = store.repository().getJobExecution(e.getId());
            for (StepExecution step : full.getStepExecutions()) {
                ExecutionContext ec = step.getExecutionContext();
                if (!ec.containsKey(TARGET)) {
                    continue;
                }
                latest.merge(
                        ec.getString(TARGET),
                        step,
                        (a, b) -> Comparator.comparing(StepExecution::getId).compare(a, b) >= 0 ? a : b);
            }
        }
        List<TargetState> out = new ArrayList<>();
        String haltedBy = null;
        List<List<String>> waves = fleet.waves();
        for (int w = 0; w < waves.size(); w++) {
            for (String target : waves.get(w)) {
                StepExecution step = latest.get(target);
                if (step == null) {
                    out.add(new TargetState(target, w + 1, "NOT_STARTED", null, null));
                    continue;
                }
                ExecutionContext ec = step.getExecutionContext();
                Outcome outcome = ec.containsKey(OUTCOME) ? Outcome.valueOf(ec.getString(OUTCOME)) : null;
                String message = ec.containsKey(MESSAGE) ? ec.getString(MESSAGE) : null;
                if (haltedBy == null
                        && (outcome == Outcome.FAILED
                                || outcome == Outcome.MISMATCHES
                                || outcome == Outcome.NOT_RUNNABLE)) {
                    haltedBy = target;
                }
                out.add(new TargetState(target, w + 1, step.getStatus().name(), outcome, message));
            }
        }
        JobExecution full = store.repository().getJobExecution(last.getId());
        return new State(full.getStatus().name(), executions, out, haltedBy);
    }
}
