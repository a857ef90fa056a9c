package dev.sluice.engine.checkpoint;

import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecParser;

import org.springframework.batch.infrastructure.item.ExecutionContext;

/**
 * What is recorded with a job when it starts, in its job ExecutionContext: the spec it runs (so every command
 * works from the job's name alone, in any process), the planner's row estimate (for progress and ETA), and the rate
 * limit in force (the spec's, or an operator's {@code tune}). Spring Batch carries the job context over to each
 * restart, so a tuned rate outlives a pause: it holds until the job completes, unless the spec's own rate is changed
 * (then the spec, edited since, wins).
 */
public final class JobRecord {

    private static final String SPEC = "sluice.spec";
    private static final String DIGEST = "sluice.semanticDigest";
    private static final String ESTIMATED_ROWS = "sluice.estimatedRows";
    private static final String RATE_LIMIT = "sluice.rowsPerSecondLimit";
    private static final String TUNED_FROM = "sluice.tunedFromRowsPerSecond";
    private static final String VALIDATES = "sluice.validatesAfterRun";

    private JobRecord() {}

    /**
     * Records the work's spec, what its progress is measured against, and whether the job validates after its last
     * chunk (so that status knows to wait for the verdict). A rollback continued keeps the figure it started with:
     * its journal has been emptying since.
     *
     * @return the estimate recorded
     */
    static long write(ExecutionContext ec, Work work) {
        JobSpec spec = work.prepared().spec();
        ec.putString(SPEC, SpecParser.toYaml(spec));
        ec.putString(DIGEST, spec.semanticDigest());
        if (work.kind() != Work.Kind.ROLLBACK || !ec.containsKey(ESTIMATED_ROWS)) {
            ec.putLong(ESTIMATED_ROWS, work.estimatedRows());
        }
        ec.putString(VALIDATES, Boolean.toString(work.prepared().validatesAfterRun()));
        return ec.getLong(ESTIMATED_ROWS);
    }

    /** Whether the job validates after its last chunk, as recorded when it started; null if not recorded. */
    static Boolean validatesAfterRun(ExecutionContext ec) {
        return ec.containsKey(VALIDATES) ? Boolean.valueOf(ec.getString(VALIDATES)) : null;
    }

    /** The recorded spec, or null if none was recorded. */
    public static JobSpec spec(ExecutionContext ec) {
        return ec.containsKey(SPEC) ? SpecParser.parse(ec.getString(SPEC)) : null;
    }

    public static String digest(ExecutionContext ec) {
        return ec.containsKey(DIGEST) ? ec.getString(DIGEST) : null;
    }

    public static long estimatedRows(ExecutionContext ec) {
        return ec.getLong(ESTIMATED_ROWS, 0);
    }

    /**
     * The rate limit an execution starts with: an operator's tune of an earlier execution, if the spec still says
     * what it said then; else the spec's own {@code specRate}. Recorded as the limit in force.
     */
    static long startingLimit(ExecutionContext ec, long specRate) {
        long limit = specRate;
        if (ec.containsKey(TUNED_FROM) && ec.getLong(TUNED_FROM) == specRate) {
            limit = ec.getLong(RATE_LIMIT);
        } else {
            ec.remove(TUNED_FROM);
        }
        ec.putLong(RATE_LIMIT, limit);
        return limit;
    }

    /** An operator tuned the rate to {@code rate} while the spec said {@code specRate}. */
    static void tuned(ExecutionContext ec, long rate, long specRate) {
        ec.putLong(RATE_LIMIT, rate);
        ec.putLong(TUNED_FROM, specRate);
    }

    /** The rate limit in force, in rows per second (0: none), or null if none was recorded. */
    static Long limit(ExecutionContext ec) {
        return ec.containsKey(RATE_LIMIT) ? ec.getLong(RATE_LIMIT) : null;
    }
}
