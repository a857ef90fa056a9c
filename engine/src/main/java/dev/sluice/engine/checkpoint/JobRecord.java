package dev.sluice.engine.checkpoint;

import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecParser;

import org.springframework.batch.infrastructure.item.ExecutionContext;

/**
 * What is recorded with a job when it starts, in its job ExecutionContext: the spec it runs (so every command
 * works from the job's name alone, in any process) and the planner's row estimate (for progress and ETA).
 * Spring Batch carries the job context over to each restart.
 */
public final class JobRecord {

    private static final String SPEC = "sluice.spec";
    private static final String DIGEST = "sluice.semanticDigest";
    private static final String ESTIMATED_ROWS = "sluice.estimatedRows";

    private JobRecord() {
    }

    public static void write(ExecutionContext ec, JobSpec spec, long estimatedRows) {
        ec.putString(SPEC, SpecParser.toYaml(spec));
        ec.putString(DIGEST, spec.semanticDigest());
        ec.putLong(ESTIMATED_ROWS, estimatedRows);
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
}
