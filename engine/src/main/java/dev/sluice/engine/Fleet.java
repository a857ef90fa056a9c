package dev.sluice.engine;

import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import javax.sql.DataSource;

import dev.sluice.engine.checkpoint.BatchSchema;
import dev.sluice.engine.checkpoint.CheckpointStore;
import dev.sluice.engine.checkpoint.Rollout;
import dev.sluice.engine.control.RunnerLock;
import dev.sluice.engine.spec.FleetSpec;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;

/**
 * A job rolled out over a fleet of databases ({@link FleetSpec}): wave after wave, the canary first, each target's job
 * run as a single run would run it there (its record, checkpoint and undo journal in that target's database), the
 * rollout's own record in the coordinator's database. A target that fails or finds mismatches halts the rollout before
 * the next wave; {@link #run} again continues it where it stopped (a runner killed mid-rollout, too). One runner per
 * rollout at a time (an advisory lock in the coordinator).
 */
public final class Fleet {

    private final FleetSpec spec;
    private final DataSource coordinator;
    private final String schema;
    private final Map<String, Backfill> targets;
    // Each target's meters: the run's registry seen through a composite that tags them target=NAME (kept per target, so
    // that a target's meters are registered once however many times the rollout runs it).
    private final Map<String, MeterRegistry> meters = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * @param coordinator the database of the rollout's record (the spec's coordinator, or its first target)
     * @param schema      the schema of the job repository there
     * @param targets     a Backfill on each target's database, by target name
     */
    public Fleet(FleetSpec spec, DataSource coordinator, String schema, Map<String, Backfill> targets) {
        this.spec = spec;
        this.coordinator = coordinator;
        this.schema = schema;
        this.targets = Map.copyOf(targets);
        for (FleetSpec.Target t : spec.targets()) {
            if (!this.targets.containsKey(t.name())) {
                throw new IllegalArgumentException("no Backfill for target " + t.name());
            }
        }
    }

    /** The fleet. */
    public FleetSpec spec() {
        return spec;
    }

    /** The Backfill on target {@code name}'s database. */
    public Backfill target(String name) {
        Backfill b = targets.get(name);
        if (b == null) {
            throw new SpecException("--fleet", "fleet " + spec.name() + " has no target " + name);
        }
        return b;
    }

    /**
     * Rolls job {@code job} out over the fleet, or continues its last rollout: each target's job is run with {@code
     * options} (its stop: the rollout's, raised by a signal, an operator, or a halt), and {@code ended} is told of each
     * target as its job ends.
     *
     * @throws SpecException if the spec does not pass a target's preflight (that target fails, and the rollout halts)
     */
    public FleetResult run(JobSpec job, RunOptions options, Consumer<FleetResult.Target> ended) throws SQLException {
        String lockName = "fleet:" + spec.name() + ":" + job.name();
        RunnerLock lock = RunnerLock.tryAcquire(coordinator, lockName);
        if (lock == null) {
            return new FleetResult(
                    FleetResult.Outcome.NOT_RUNNABLE,
                    "the rollout of " + job.name() + " on fleet " + spec.name() + " is already running",
                    "STARTED",
                    null,
                    List.of());
        }
        try (lock) {
            // Spring Batch shares a running step's context across the JVM by its execution's id (and job execution's
            // and step's name): the targets' ids are kept apart, so that no two targets run in this process share one.
            BatchSchema.keepApart(
                    spec.targets().stream()
                            .map(t -> targets.get(t.name()).database())
                            .toList(),
                    schema);
            CheckpointStore store = CheckpointStore.open(coordinator, schema);
            Rollout.State state = Rollout.run(
                    store,
                    spec,
                    job.name(),
                    (target, stop) -> {
                        Rollout.TargetRun ran = runTarget(target, job, options.withStop(stop));
                        ended.accept(new FleetResult.Target(
                                target,
                                waveOf(target),
                                ran.outcome().name(),
                                ran.outcome().name(),
                                ran.message()));
                        return ran;
                    },
                    options.stop(),
                    options.again());
            return result(job.name(), state);
        } catch (SQLException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(
                    "cannot roll " + job.name() + " out on fleet " + spec.name() + ": " + e.getMessage(), e);
        }
    }

    private Rollout.TargetRun runTarget(String target, JobSpec job, RunOptions options) throws SQLException {
        Backfill backfill = target(target);
        RunOptions here = options.metrics() == null ? options : options.withMetrics(meters(target, options.metrics()));
        JobStatus before = backfill.status(job.name());
        if (options.resumeOnly() && before.state() == JobStatus.State.NOT_STARTED) {
            here = options.resumeOnly(false); // a resumed rollout starts the targets it had not reached
        }
        RunResult r;
        try {
            r = backfill.run(job, here);
        } catch (SpecException e) {
            return new Rollout.TargetRun(Rollout.Outcome.FAILED, e.getMessage());
        }
        if (r.outcome() == RunResult.Outcome.MISMATCHES
                && before.validation() != null
                && before.validation().mismatches() > 0) {
            // Halted on mismatches its validation found, and continued once an operator fixed them: the rollout
            // validates the target again rather than take the old verdict.
            ValidationResult v = backfill.validate(job, here);
            if (!v.clean()) {
                return new Rollout.TargetRun(Rollout.Outcome.MISMATCHES, v.message());
            }
            return done(backfill, job.name(), RunResult.of(RunResult.Outcome.COMPLETED, v.message()));
        }
        return switch (r.outcome()) {
            case COMPLETED, ALREADY_COMPLETE -> done(backfill, job.name(), r);
            case MISMATCHES -> new Rollout.TargetRun(Rollout.Outcome.MISMATCHES, r.message());
            case STOPPED -> new Rollout.TargetRun(Rollout.Outcome.STOPPED, r.message());
            case NOT_RUNNABLE -> new Rollout.TargetRun(Rollout.Outcome.NOT_RUNNABLE, r.message());
            case FAILED -> new Rollout.TargetRun(Rollout.Outcome.FAILED, r.message());
        };
    }

    /** The run's meters of target {@code target}: the same names, with the label {@code target}. */
    private MeterRegistry meters(String target, MeterRegistry registry) {
        return meters.computeIfAbsent(target, t -> {
            CompositeMeterRegistry tagged = new CompositeMeterRegistry();
            tagged.config().commonTags("target", t);
            tagged.add(registry);
            return tagged;
        });
    }

    /** A target counts as done only as {@code require} says: complete, validated clean, its sync trigger in place. */
    private static Rollout.TargetRun done(Backfill backfill, String job, RunResult r) throws SQLException {
        try {
            backfill.require(job);
            return new Rollout.TargetRun(Rollout.Outcome.DONE, r.message());
        } catch (JobNotDoneException e) {
            return new Rollout.TargetRun(Rollout.Outcome.NOT_RUNNABLE, e.getMessage());
        }
    }

    /** The last rollout of job {@code job} on the fleet, as recorded in the coordinator; reads only. */
    public FleetResult status(String job) throws SQLException {
        CheckpointStore store = CheckpointStore.open(coordinator, schema);
        return result(job, Rollout.read(store, spec, job));
    }

    private FleetResult result(String job, Rollout.State state) {
        if (state == null) {
            List<FleetResult.Target> none = spec.waves().stream()
                    .flatMap(w -> w.stream())
                    .map(t -> new FleetResult.Target(t, waveOf(t), "NOT_STARTED", null, null))
                    .toList();
            return new FleetResult(
                    FleetResult.Outcome.STOPPED,
                    "the rollout of " + job + " on fleet " + spec.name() + " has not started",
                    "NOT_STARTED",
                    null,
                    none);
        }
        List<FleetResult.Target> targets = state.targets().stream()
                .map(t -> new FleetResult.Target(
                        t.target(),
                        t.wave(),
                        t.status(),
                        t.outcome() == null ? null : t.outcome().name(),
                        t.message()))
                .toList();
        String halted = state.haltedBy();
        FleetResult.Outcome outcome;
        String message;
        if ("COMPLETED".equals(state.status())) {
            outcome = FleetResult.Outcome.COMPLETED;
            message = "the rollout of " + job + " on fleet " + spec.name() + " completed: " + targets.size()
                    + " targets done";
        } else if (halted != null) {
            FleetResult.Target t = targets.stream()
                    .filter(x -> x.name().equals(halted))
                    .findFirst()
                    .orElseThrow();
            outcome = "MISMATCHES".equals(t.outcome()) ? FleetResult.Outcome.MISMATCHES : FleetResult.Outcome.FAILED;
            message = "the rollout of " + job + " on fleet " + spec.name() + " halted at target " + halted + " (wave "
                    + t.wave() + "): " + t.message();
        } else {
            outcome = FleetResult.Outcome.STOPPED;
            message = "the rollout of " + job + " on fleet " + spec.name() + " stopped ("
                    + state.status().toLowerCase(java.util.Locale.ROOT) + ")";
        }
        return new FleetResult(outcome, message, state.status(), halted, targets);
    }

    private int waveOf(String target) {
        List<List<String>> waves = spec.waves();
        for (int w = 0; w < waves.size(); w++) {
            if (waves.get(w).contains(target)) {
                return w + 1;
            }
        }
        return 0;
    }
}
