package dev.sluice.engine;

import dev.sluice.engine.spec.JobSpec;

/**
 * The way on from where a job stands, in the words every message uses: one place, so that each hint names the step
 * that is right and safe for the work it is about. An unfinished backfill continues with {@code resume}, a validation
 * with {@code validate}, a repair with {@code run --only-mismatched}, a rollback with {@code rollback}; rows others
 * changed since Sluice wrote them come back only with {@code rollback --force}; {@code run --again}, which applies
 * the job to every row once more, is named only where the work is meant to start over (a cancelled or rolled-back
 * backfill).
 */
public final class NextStep {

    private NextStep() {}

    /** The command that continues {@code work} of job {@code job} where it stopped, quoted. */
    public static String command(JobStatus.Work work, String job) {
        return switch (work) {
            case BACKFILL -> "'resume " + job + "'";
            case VALIDATION -> "'validate " + job + "'";
            case REPAIR -> "'run " + job + " --only-mismatched'";
            case ROLLBACK -> "'rollback " + job + "'";
        };
    }

    /** For work that stopped, paused or failed: what continues it from its checkpoint. */
    public static String continues(JobStatus.Work work, String job) {
        return command(work, job) + " continues it";
    }

    /** For work an operator cancelled: what, if anything, takes it up again. */
    public static String afterCancel(JobStatus.Work work, String job) {
        return switch (work) {
            case BACKFILL -> "it will not resume; 'run " + job + " --again' starts it over";
            case VALIDATION, REPAIR -> command(work, job) + " runs it again";
            case ROLLBACK -> command(work, job) + " restores the rest";
        };
    }

    /** The rollback that restores rows others changed since Sluice wrote them. */
    public static String force(String job) {
        return "'rollback " + job + " --force'";
    }

    /**
     * How to deal with mismatches a validation found: a repair where a {@code {target, source}} rule covers a column
     * of {@code set} (it says which rows to write again), else a look at them.
     */
    public static String mismatches(JobSpec spec) {
        String job = spec.name();
        boolean repairable = spec.validate().stream()
                .anyMatch(r -> r.check() == null && spec.set().containsKey(r.target()));
        return repairable
                ? "repair with 'run " + job + " --only-mismatched'"
                : "'validate " + job
                        + "' lists them (no {target, source} rule on a column of set says how to repair them)";
    }
}
