package dev.sluice.engine.checkpoint;

import java.util.ArrayList;
import java.util.List;

import dev.sluice.engine.Key;
import dev.sluice.engine.KeyRange;

import org.springframework.batch.infrastructure.item.ExecutionContext;

import tools.jackson.databind.json.JsonMapper;

/**
 * How a job's key space is cut into partitions, kept in the job's ExecutionContext (see {@link KeyRangeSplitter}
 * for why not in the partition step's). Each part is a key range {@code (lo, hi]} worked by a partition step execution of its
 * name, whose checkpoint lives in that execution's context and commits with its chunks.
 *
 * <p>A part is {@code ACTIVE} until it completes ({@code COMPLETED}, its counters copied here when a later
 * execution sees it so); when {@code parallel} changes between runs, the unfinished parts are {@code RESPLIT}:
 * their counters stay here, and what they had left is cut again into new parts of the next generation.
 *
 * @param parallel   how many parts ran at once when the plan was last cut
 * @param generation one more for each re-cut; part names carry it, so that no name is ever reused
 */
record PartitionPlan(int parallel, int generation, List<Part> parts) {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String KEY = "sluice.partitions";
    // A part's upper bound, also kept in its own context: the one thing its walk must never read past.
    private static final String HI = "sluice.partition.hi";

    /** A part's life. */
    enum State {
        ACTIVE,
        COMPLETED,
        RESPLIT
    }

    /**
     * One part. For an ACTIVE part the counters are those of its last execution when the plan was written (its
     * live execution has the current ones).
     *
     * @param lo the key after which the part begins (null: the table's start)
     * @param hi the part's last key (null: open above, so that rows inserted during the run are found)
     */
    record Part(String name, List<String> lo, List<String> hi, State state, long rows, long written, long chunks) {

        Key loKey() {
            return lo == null ? null : new Key(lo);
        }

        Key hiKey() {
            return hi == null ? null : new Key(hi);
        }

        Part with(State next, Checkpoint at) {
            return new Part(name, lo, hi, next, at.rows(), at.written(), at.chunks());
        }
    }

    PartitionPlan {
        parts = List.copyOf(parts);
    }

    /** The plan kept in a job's context, or null before the first split. */
    static PartitionPlan read(ExecutionContext ec) {
        return ec.containsKey(KEY) ? JSON.readValue(ec.getString(KEY), PartitionPlan.class) : null;
    }

    void writeTo(ExecutionContext ec) {
        ec.putString(KEY, JSON.writeValueAsString(this));
    }

    /** A new part's context: its checkpoint at its lower bound (its walk begins after it), and its upper bound. */
    static ExecutionContext fresh(Part part) {
        ExecutionContext context = new ExecutionContext();
        new Checkpoint(part.loKey(), 0, 0, 0, 0, 0, 0).writeTo(context);
        context.putString(HI, JSON.writeValueAsString(part.hi()));
        return context;
    }

    /** Whether a part's context holds its range (a context never saved is empty). */
    static boolean holdsRange(ExecutionContext ec) {
        return ec.containsKey(HI);
    }

    /** The upper bound of the part whose context this is (null: open above). */
    static Key hi(ExecutionContext ec) {
        if (!holdsRange(ec)) {
            throw new IllegalStateException("a partition's context holds no range");
        }
        String[] values = JSON.readValue(ec.getString(HI), String[].class);
        return values == null ? null : new Key(List.of(values));
    }

    /** The name of part {@code index} of generation {@code generation} of a step. */
    static String name(String step, int generation, int index) {
        return step + ":" + generation + "." + index;
    }

    /** Whether a step execution is one of a partition step's parts (their names carry a colon, the step's do not). */
    static boolean isPart(String stepName) {
        return stepName.contains(":");
    }

    /** The parts of a new generation over {@code ranges} (their bounds; the row counts are not used). */
    static List<Part> parts(String step, int generation, List<KeyRange> ranges) {
        List<Part> out = new ArrayList<>();
        for (KeyRange r : ranges) {
            out.add(new Part(
                    name(step, generation, out.size()),
                    r.lo() == null ? null : r.lo().values(),
                    r.hi() == null ? null : r.hi().values(),
                    State.ACTIVE,
                    0,
                    0,
                    0));
        }
        return out;
    }
}
