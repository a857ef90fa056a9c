package dev.sluice.engine;

import java.util.Objects;

import dev.sluice.engine.spec.JobSpec;

/**
 * The way on from where a job stands, as data: which step, for which job. The engine chooses the step that is right
 * and safe for the work a result is about; each front end words it for its own users (the command line as a command
 * to type, {@code serve} and the starter as the request to send or the command to run). An unfinished backfill
 * continues with a resume, a validation with a validation, a repair with a repair, a rollback with a rollback; rows
 * others changed since Sluice wrote them come back only with a forced rollback; starting over, which applies the job
 * to every row once more, is the step only where the work is meant to start over (a cancelled backfill).
 *
 * @param action what to do
 * @param job    the job to do it to
 */
public record NextStep(Action action, String job) {

    public NextStep {
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(job, "job");
    }

    /** The steps a result can point to. */
    public enum Action {
        /** Continue the backfill from its checkpoint (it stopped, paused or failed). */
        RESUME,
        /** Continue the validation where it stopped. */
        CONTINUE_VALIDATION,
        /** Continue the repair where it stopped. */
        CONTINUE_REPAIR,
        /** Continue the rollback where it stopped. */
        CONTINUE_ROLLBACK,
        /** Validate again (the validation was cancelled, or never ran). */
        VALIDATE_AGAIN,
        /** Repair again (the repair was cancelled). */
        REPAIR_AGAIN,
        /** Roll back the rest (the rollback was cancelled). */
        RESTORE_REST,
        /** A cancelled backfill never resumes: start it over on every row. */
        START_OVER,
        /** A rolled-back job runs again only anew, on every row. */
        RUN_ANEW,
        /** Roll back rows others changed since Sluice wrote them too. */
        FORCE_ROLLBACK,
        /** Re-apply the job to the rows a validation found different (a rule says how). */
        REPAIR_MISMATCHES,
        /** Look at the mismatches (no rule says how to repair them). */
        LIST_MISMATCHES
    }

    /** For work that stopped, paused or failed: what continues it from its checkpoint. */
    public static NextStep continues(JobStatus.Work work, String job) {
        return new NextStep(
                switch (work) {
                    case BACKFILL -> Action.RESUME;
                    case VALIDATION -> Action.CONTINUE_VALIDATION;
                    case REPAIR -> Action.CONTINUE_REPAIR;
                    case ROLLBACK -> Action.CONTINUE_ROLLBACK;
                },
                job);
    }

    /** For work an operator cancelled: what, if anything, takes it up again. */
    public static NextStep afterCancel(JobStatus.Work work, String job) {
        return new NextStep(
                switch (work) {
                    case BACKFILL -> Action.START_OVER;
                    case VALIDATION -> Action.VALIDATE_AGAIN;
                    case REPAIR -> Action.REPAIR_AGAIN;
                    case ROLLBACK -> Action.RESTORE_REST;
                },
                job);
    }

    /** The rollback that restores rows others changed since Sluice wrote them. */
    public static NextStep force(String job) {
        return new NextStep(Action.FORCE_ROLLBACK, job);
    }

    /**
     * How to deal with mismatches a validation found: a repair where a {@code {target, source}} rule covers a column
     * of {@code set} (it says which rows to write again), else a look at them.
     */
    public static NextStep mismatches(JobSpec spec) {
        return new NextStep(
                spec.repairRules().isEmpty() ? Action.LIST_MISMATCHES : Action.REPAIR_MISMATCHES, spec.name());
    }

    /**
     * The step as the command line says it, quoted: {@code 'resume orders'}. The contract gate's refusals are worded
     * so ({@code Backfill.require} throws what {@code sluice require} prints); other front ends word the step for
     * their own users.
     */
    public String command() {
        return "'"
                + switch (action) {
                    case RESUME -> "resume " + job;
                    case CONTINUE_VALIDATION, VALIDATE_AGAIN, LIST_MISMATCHES -> "validate " + job;
                    case CONTINUE_REPAIR, REPAIR_AGAIN, REPAIR_MISMATCHES -> "run " + job + " --only-mismatched";
                    case CONTINUE_ROLLBACK, RESTORE_REST -> "rollback " + job;
                    case START_OVER, RUN_ANEW -> "run " + job + " --again";
                    case FORCE_ROLLBACK -> "rollback " + job + " --force";
                }
                + "'";
    }

    /** The step as a clause of a command-line message: {@code 'resume orders' continues it}. */
    public String clause() {
        return switch (action) {
            case RESUME, CONTINUE_VALIDATION, CONTINUE_REPAIR, CONTINUE_ROLLBACK -> command() + " continues it";
            case VALIDATE_AGAIN, REPAIR_AGAIN -> command() + " runs it again";
            case RESTORE_REST -> command() + " restores the rest";
            case START_OVER -> "it will not resume; " + command() + " starts it over";
            case RUN_ANEW -> command() + " starts it anew";
            case FORCE_ROLLBACK -> command() + " restores the rows others changed too";
            case REPAIR_MISMATCHES -> "repair with " + command();
            case LIST_MISMATCHES ->
                command() + " lists them (no {target, source} rule on a column of set says how to repair them)";
        };
    }
}
