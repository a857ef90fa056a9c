package dev.sluice.engine.checkpoint;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import javax.sql.DataSource;

import dev.sluice.engine.Key;
import dev.sluice.engine.KeyRange;
import dev.sluice.engine.chunk.ChunkLoop;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.JobExecutionException;
import org.springframework.batch.core.job.JobInstance;
import org.springframework.batch.core.partition.StepExecutionSplitter;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.infrastructure.item.ExecutionContext;

/**
 * Splits a job's key space into key-range partitions, and on every later execution decides which of them run
 * again. Spring Batch's own splitter restarts the same partitions by name; this one does that too (a part that
 * completed never runs again; an unfinished one continues from its own checkpoint), and, when {@code parallel}
 * changed between runs, cuts what the unfinished parts had left into new parts instead (see {@link PartitionPlan}).
 *
 * <p>The plan is kept in the job's ExecutionContext and saved before any part is created. Not in the partition
 * step's own: on a restart Spring Batch stores a step's new execution with an empty context and copies the last one
 * in memory only, so a runner killed during a split would leave no plan behind, and the next one would cut the table
 * afresh over parts that had already run. The job's context is stored when the job starts and carried over on restart.
 */
final class KeyRangeSplitter implements StepExecutionSplitter {

    /** Told the job's totals once the parts are known: rows, written and chunks of every part so far. */
    interface Start {
        void started(Checkpoint totals);
    }

    private final JobRepository repository;
    private final DataSource dataSource;
    private final String step;
    private final ChunkLoop.Source source;
    private final Start start;

    KeyRangeSplitter(
            JobRepository repository, DataSource dataSource, String step, ChunkLoop.Source source, Start start) {
        this.repository = repository;
        this.dataSource = dataSource;
        this.step = step;
        this.source = source;
        this.start = start;
    }

    @Override
    public String getStepName() {
        return step;
    }

    @Override
    public Set<StepExecution> split(StepExecution manager, int parallel) throws JobExecutionException {
        JobExecution job = manager.getJobExecution();
        JobInstance instance = job.getJobInstance();
        PartitionPlan plan = PartitionPlan.read(job.getExecutionContext());
        try {
            if (plan == null && Checkpoint.from(manager.getExecutionContext()).chunks() > 0) {
                // A job recorded before partitions: its one step's checkpoint (copied into this execution's context,
                // in memory) is what remains to cut.
                plan = recut(
                        new PartitionPlan(
                                0,
                                0,
                                List.of(new PartitionPlan.Part(step, null, null, PartitionPlan.State.ACTIVE, 0, 0, 0))),
                        instance,
                        parallel,
                        Checkpoint.from(manager.getExecutionContext()));
            } else if (plan == null) {
                plan = new PartitionPlan(
                        parallel, 1, PartitionPlan.parts(step, 1, cut(List.of(new KeyRange(null, null, 0)), parallel)));
            } else {
                plan = settle(plan, instance);
                if (plan.parallel() != parallel) {
                    plan = recut(plan, instance, parallel, null);
                }
            }
        } catch (SQLException e) {
            throw new JobExecutionException(
                    "cannot cut the key space into " + parallel + " ranges: " + e.getMessage(), e);
        }
        plan.writeTo(job.getExecutionContext());
        repository.updateExecutionContext(job);
        Set<StepExecution> executions = new LinkedHashSet<>();
        long rows = 0;
        long written = 0;
        long chunks = 0;
        for (PartitionPlan.Part part : plan.parts()) {
            if (part.state() != PartitionPlan.State.ACTIVE) {
                rows += part.rows();
                written += part.written();
                chunks += part.chunks();
                continue;
            }
            ExecutionContext context = continuedFrom(instance, part);
            Checkpoint at = Checkpoint.from(context);
            rows += at.rows();
            written += at.written();
            chunks += at.chunks();
            StepExecution execution = repository.createStepExecution(part.name(), job);
            execution.setExecutionContext(context);
            repository.updateExecutionContext(execution);
            executions.add(execution);
        }
        start.started(new Checkpoint(null, rows, written, chunks, rows, written, 0));
        return executions;
    }

    /**
     * The context a part continues from: that of its newest execution holding its range, or a fresh one at its lower
     * bound. An execution is created before its context is saved: an outage between the two leaves one with an empty
     * context, which no chunk can have run in, and which must not hide the checkpoint of the execution before it.
     */
    private ExecutionContext continuedFrom(JobInstance instance, PartitionPlan.Part part) {
        StepExecution last = repository.getLastStepExecution(instance, part.name());
        if (last == null) {
            return PartitionPlan.fresh(part);
        }
        if (PartitionPlan.holdsRange(last.getExecutionContext())) {
            return new ExecutionContext(last.getExecutionContext());
        }
        return repository.getJobExecutions(instance).stream()
                .flatMap(job -> job.getStepExecutions().stream())
                .filter(step -> step.getStepName().equals(part.name()))
                .filter(step -> PartitionPlan.holdsRange(step.getExecutionContext()))
                .max(Comparator.comparingLong(StepExecution::getId))
                .map(step -> new ExecutionContext(step.getExecutionContext()))
                .orElseGet(() -> PartitionPlan.fresh(part));
    }

    /** The plan with the parts that completed since it was written marked so, with their counters. */
    private PartitionPlan settle(PartitionPlan plan, JobInstance instance) {
        List<PartitionPlan.Part> parts = new ArrayList<>();
        for (PartitionPlan.Part part : plan.parts()) {
            StepExecution last = part.state() == PartitionPlan.State.ACTIVE
                    ? repository.getLastStepExecution(instance, part.name())
                    : null;
            parts.add(
                    last != null && last.getStatus() == BatchStatus.COMPLETED
                            ? part.with(PartitionPlan.State.COMPLETED, Checkpoint.from(last.getExecutionContext()))
                            : part);
        }
        return new PartitionPlan(plan.parallel(), plan.generation(), parts);
    }

    /**
     * {@code parallel} changed: what the unfinished parts have left, cut again into about {@code parallel} parts.
     *
     * @param legacy the checkpoint of a job recorded before partitions (its one part), else null
     */
    private PartitionPlan recut(PartitionPlan plan, JobInstance instance, int parallel, Checkpoint legacy)
            throws SQLException {
        List<PartitionPlan.Part> parts = new ArrayList<>();
        List<KeyRange> left = new ArrayList<>();
        for (PartitionPlan.Part part : plan.parts()) {
            if (part.state() != PartitionPlan.State.ACTIVE) {
                parts.add(part);
                continue;
            }
            Checkpoint at = legacy != null ? legacy : Checkpoint.from(continuedFrom(instance, part));
            parts.add(part.with(PartitionPlan.State.RESPLIT, at));
            left.add(new KeyRange(at.lastKey() == null ? part.loKey() : at.lastKey(), part.hiKey(), 0));
        }
        int generation = plan.generation() + 1;
        parts.addAll(PartitionPlan.parts(step, generation, cut(left, parallel)));
        return new PartitionPlan(parallel, generation, parts);
    }

    /** The ranges that cutting {@code intervals} into about {@code parts} ranges of equal rows makes. */
    private List<KeyRange> cut(List<KeyRange> intervals, int parts) throws SQLException {
        List<List<Key>> cuts;
        if (parts <= 1) {
            cuts = intervals.stream().<List<Key>>map(i -> List.of()).toList();
        } else {
            try (Connection c = dataSource.getConnection()) {
                cuts = source.cuts(c, intervals, parts);
            }
        }
        List<KeyRange> ranges = new ArrayList<>();
        for (int i = 0; i < intervals.size(); i++) {
            Key lo = intervals.get(i).lo();
            for (Key cut : cuts.get(i)) {
                ranges.add(new KeyRange(lo, cut, 0));
                lo = cut;
            }
            ranges.add(new KeyRange(lo, intervals.get(i).hi(), 0));
        }
        return ranges;
    }
}
