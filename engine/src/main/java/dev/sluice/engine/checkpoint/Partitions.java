package dev.sluice.engine.checkpoint;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import dev.sluice.engine.Key;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.infrastructure.item.ExecutionContext;

/**
 * An execution's partitions read back, and the job's figures summed over them: every part of its plan, those that
 * ran in this execution as they stand now, the others as the plan recorded them (completed, or cut again).
 */
final class Partitions {

    /** One part as status shows it. */
    record View(String name, Key from, Key to, String state, Checkpoint checkpoint, ExecutionContext context) {}

    private final List<View> views = new ArrayList<>();

    private Partitions() {}

    static Partitions of(JobExecution execution) {
        Partitions p = new Partitions();
        StepExecution manager = null;
        Map<String, StepExecution> live = new HashMap<>();
        for (StepExecution step : execution.getStepExecutions()) {
            if (PartitionPlan.isPart(step.getStepName())) {
                live.put(step.getStepName(), step);
            } else if (manager == null) {
                manager = step;
            }
        }
        PartitionPlan plan = PartitionPlan.read(execution.getExecutionContext());
        if (plan == null) {
            // Before the first split, or a job recorded before partitions: the step's own context is the checkpoint.
            if (manager != null) {
                ExecutionContext ec = manager.getExecutionContext();
                p.views.add(new View(
                        manager.getStepName(), null, null, manager.getStatus().name(), Checkpoint.from(ec), ec));
            }
            return p;
        }
        for (PartitionPlan.Part part : plan.parts()) {
            StepExecution step = live.get(part.name());
            if (step != null) {
                ExecutionContext ec = step.getExecutionContext();
                p.views.add(new View(
                        part.name(),
                        part.loKey(),
                        part.hiKey(),
                        step.getStatus().name(),
                        Checkpoint.from(ec),
                        ec));
            } else {
                Checkpoint cp = new Checkpoint(
                        null, part.rows(), part.written(), part.chunks(), part.rows(), part.written(), 0);
                String state = part.state() == PartitionPlan.State.ACTIVE
                        ? BatchStatus.STOPPED.name()
                        : part.state().name();
                p.views.add(new View(part.name(), part.loKey(), part.hiKey(), state, cp, new ExecutionContext()));
            }
        }
        return p;
    }

    /** The parts that are not superseded by a re-cut, for status. */
    List<View> current() {
        return views.stream()
                .filter(v -> !v.state().equals(PartitionPlan.State.RESPLIT.name()))
                .toList();
    }

    /** The job's checkpoint: counters summed; the last key only when there is one part. */
    Checkpoint total() {
        long rows = 0;
        long written = 0;
        long chunks = 0;
        long rowsAtStart = 0;
        long writtenAtStart = 0;
        int chunkRows = 0;
        for (View v : views) {
            Checkpoint cp = v.checkpoint();
            rows += cp.rows();
            written += cp.written();
            chunks += cp.chunks();
            rowsAtStart += cp.rowsAtStart();
            writtenAtStart += cp.writtenAtStart();
            chunkRows = Math.max(chunkRows, cp.chunkRows());
        }
        Key last = views.size() == 1 ? views.get(0).checkpoint().lastKey() : null;
        return new Checkpoint(last, rows, written, chunks, rowsAtStart, writtenAtStart, chunkRows);
    }

    /** The first recorded value of {@code read} among the parts that ran in this execution (a failed one first). */
    String first(Function<ExecutionContext, String> read) {
        for (boolean failedOnly : new boolean[] {true, false}) {
            for (View v : views) {
                String value = read.apply(v.context());
                if (value != null && (!failedOnly || v.state().equals(BatchStatus.FAILED.name()))) {
                    return value;
                }
            }
        }
        return null;
    }

    /** The chunk notes: the one part's (a validation's findings, a rollback's conflicts), or all parts' together. */
    Map<String, String> notes() {
        Map<String, String> notes = new LinkedHashMap<>();
        for (View v : views) {
            stringsOf(v.context()).forEach(notes::putIfAbsent);
        }
        return notes;
    }

    /** Rates over the last minute, summed over the parts (each keeps its own samples). */
    RateSamples.Rates recent() {
        double processed = 0;
        double written = 0;
        double wal = 0;
        for (View v : views) {
            RateSamples.Rates r = RateSamples.recent(stringsOf(v.context()));
            processed += r.processedPerSecond();
            written += r.writtenPerSecond();
            wal += r.walBytesPerSecond();
        }
        return new RateSamples.Rates(processed, written, wal);
    }

    private static Map<String, String> stringsOf(ExecutionContext ec) {
        Map<String, String> m = new HashMap<>();
        ec.entrySet().forEach(e -> {
            if (e.getValue() instanceof String text) {
                m.put(e.getKey(), text);
            }
        });
        return m;
    }
}
