package dev.sluice.engine.checkpoint;

import java.time.LocalDateTime;
import java.util.Locale;

import dev.sluice.engine.JobStatus;
import dev.sluice.engine.NextStep;
import dev.sluice.engine.RuleResult;
import dev.sluice.engine.StopSignal;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.undo.Restorer;
import dev.sluice.engine.validate.ValidationLedger;

import org.springframework.batch.core.job.JobExecution;

/**
 * Where a job stands, from what its works say together (its backfill, validations, repair and rollback are Spring
 * Batch jobs of their own): its state, the work the status describes (the one that runs, or waits to be continued;
 * its figures are that work's), and why it is not done, with the way on ({@link NextStep}).
 * <ul>
 * <li>A rollback that started after the backfill's last execution decides: ROLLING_BACK, ROLLED_BACK, or the
 *     rollback paused, stopped, failed or cancelled.</li>
 * <li>A validation or a repair that runs under the job's runner decides while it runs.</li>
 * <li>A completed backfill is COMPLETED once the validation after it (if it has one) gives its verdict: VALIDATING
 *     until then, FAILED on mismatches, paused, stopped or failed with an unfinished validation. A validation an
 *     operator cancelled gives no verdict: the one before it stands, so cancelling an extra validation of a
 *     completed job cancels that validation alone; with none before it the job is CANCELLED, until a validation
 *     gives one.</li>
 * </ul>
 */
final class Standing {

    /** A read of one work's last execution, with what its runner keeps in the job's context. */
    record LastExecution(Run run, String throttleReason, Boolean validatesAfterRun) {
        static LastExecution of(JobExecution execution) {
            return new LastExecution(
                    JobRuns.run(execution),
                    ThrottleRecorder.reason(execution.getExecutionContext()),
                    JobRecord.validatesAfterRun(execution.getExecutionContext()));
        }

        /** Whether this work started at or after {@code instant} (unknown times count as after). */
        boolean startedSince(LocalDateTime instant) {
            return instant == null
                    || run.startedAt() == null
                    || !run.startedAt().isBefore(instant);
        }
    }

    /** A job's validations: the newest, and the newest that an operator did not cancel (a verdict's). */
    record Validations(LastExecution newest, LastExecution verdict) {
        static final Validations NONE = new Validations(null, null);
    }

    final JobStatus.State state;
    final JobStatus.Work work;
    /** The work whose rate, ETA, limit and throttle the status shows. */
    final LastExecution current;

    final String lastError;
    final String stopReason;
    /** The way on, where the job waits for a step. */
    final NextStep next;

    /** A state that waits for no step: the work runs, or is done. */
    private Standing(
            JobStatus.State state, JobStatus.Work work, LastExecution current, String lastError, String stopReason) {
        this(state, work, current, lastError, stopReason, null);
    }

    private Standing(
            JobStatus.State state,
            JobStatus.Work work,
            LastExecution current,
            String lastError,
            String stopReason,
            NextStep next) {
        this.state = state;
        this.work = work;
        this.current = current;
        this.lastError = lastError;
        this.stopReason = stopReason;
        this.next = next;
    }

    /** What takes the work on from a state that waits for a step: it continues, or after a cancel starts over. */
    private static NextStep onward(JobStatus.State state, JobStatus.Work work, String job) {
        return switch (state) {
            case PAUSED, STOPPED, FAILED -> NextStep.continues(work, job);
            case CANCELLED -> NextStep.afterCancel(work, job);
            default -> null;
        };
    }

    static Standing of(
            String job,
            LastExecution backfill,
            Validations validations,
            LastExecution repair,
            LastExecution rollback,
            boolean runner) {
        Run run = backfill.run();
        if (rollback != null
                && rollback.run().startedAt() != null
                && run.startedAt() != null
                && !rollback.run().startedAt().isBefore(run.startedAt())) {
            return rollback(job, rollback, runner);
        }
        LastExecution newest = validations.newest();
        if (runner && newest != null && newest.run().state() == RunState.RUNNING) {
            return new Standing(JobStatus.State.VALIDATING, JobStatus.Work.VALIDATION, newest, null, null);
        }
        if (runner && repair != null && repair.run().state() == RunState.RUNNING) {
            return new Standing(JobStatus.State.RUNNING, JobStatus.Work.REPAIR, repair, null, null);
        }
        if (run.state() == RunState.RUNNING) {
            return runner
                    ? new Standing(JobStatus.State.RUNNING, JobStatus.Work.BACKFILL, backfill, null, null)
                    : new Standing(
                            JobStatus.State.FAILED,
                            JobStatus.Work.BACKFILL,
                            backfill,
                            "the runner ended without recording it (killed?)",
                            null,
                            NextStep.continues(JobStatus.Work.BACKFILL, job));
        }
        JobStatus.State state = state(run);
        if (state == JobStatus.State.COMPLETED) {
            Standing verdict = verdict(job, backfill, validations, runner);
            if (verdict != null) {
                return verdict;
            }
        }
        return new Standing(
                state,
                JobStatus.Work.BACKFILL,
                backfill,
                state == JobStatus.State.FAILED ? run.failure() : null,
                stopped(state) ? run.stopReason() : null,
                onward(state, JobStatus.Work.BACKFILL, job));
    }

    /** The state an ended execution leaves its job in: the one mapping from a run's state to a job's. */
    static JobStatus.State state(Run run) {
        return switch (run.state()) {
            case RUNNING -> JobStatus.State.RUNNING;
            case COMPLETED -> JobStatus.State.COMPLETED;
            case STOPPED -> StopSignal.isPause(run.stopReason()) ? JobStatus.State.PAUSED : JobStatus.State.STOPPED;
            case CANCELLED -> JobStatus.State.CANCELLED;
            case FAILED -> JobStatus.State.FAILED;
        };
    }

    /** Whether a job in {@code state} has a reason it stopped worth showing. */
    private static boolean stopped(JobStatus.State state) {
        return state == JobStatus.State.PAUSED
                || state == JobStatus.State.STOPPED
                || state == JobStatus.State.CANCELLED;
    }

    /** What a rollback run that came after the backfill makes of the job. */
    private static Standing rollback(String job, LastExecution rollback, boolean runner) {
        Run rb = rollback.run();
        JobStatus.Work work = JobStatus.Work.ROLLBACK;
        long changed = Restorer.conflicts(rb.notes()::get);
        String onward = changed == 0
                ? ""
                : " (" + changed + " rows changed by others since Sluice wrote them: only a forced rollback restores"
                        + " them)";
        NextStep continues = NextStep.continues(work, job);
        return switch (rb.state()) {
            case RUNNING ->
                runner
                        ? new Standing(JobStatus.State.ROLLING_BACK, work, rollback, null, null)
                        : new Standing(
                                JobStatus.State.FAILED,
                                work,
                                rollback,
                                "the rollback's runner ended without recording it (killed?)" + onward,
                                null,
                                continues);
            case COMPLETED ->
                changed == 0
                        ? new Standing(
                                JobStatus.State.ROLLED_BACK,
                                work,
                                rollback,
                                null,
                                null,
                                new NextStep(NextStep.Action.RUN_ANEW, job))
                        : new Standing(
                                JobStatus.State.FAILED,
                                work,
                                rollback,
                                "the rollback left " + changed + " rows changed by others since Sluice wrote them",
                                null,
                                NextStep.force(job));
            case STOPPED ->
                new Standing(
                        state(rb),
                        work,
                        rollback,
                        "the rollback stopped before it restored every row" + onward,
                        rb.stopReason(),
                        continues);
            case CANCELLED ->
                new Standing(
                        JobStatus.State.CANCELLED,
                        work,
                        rollback,
                        "the rollback was cancelled",
                        rb.stopReason(),
                        NextStep.afterCancel(work, job));
            case FAILED ->
                new Standing(
                        JobStatus.State.FAILED,
                        work,
                        rollback,
                        "the rollback failed: " + rb.failure() + onward,
                        null,
                        continues);
        };
    }

    /** What a completed backfill's validations say about it, or null when it is done. */
    private static Standing verdict(String job, LastExecution backfill, Validations validations, boolean runner) {
        Run run = backfill.run();
        JobStatus.Work work = JobStatus.Work.VALIDATION;
        LastExecution verdict = validations.verdict();
        if (verdict == null || !verdict.startedSince(run.endedAt())) {
            LastExecution cancelled = validations.newest();
            if (cancelled != null
                    && cancelled.run().state() == RunState.CANCELLED
                    && cancelled.startedSince(run.endedAt())) {
                return new Standing(
                        JobStatus.State.CANCELLED,
                        work,
                        cancelled,
                        "its validation after the run was cancelled before it checked every row",
                        cancelled.run().stopReason(),
                        NextStep.afterCancel(work, job));
            }
            if (!validatesAfterRun(backfill)) {
                return null;
            }
            // The runner goes on from the last chunk to the validation under the same lock.
            return runner
                    ? new Standing(JobStatus.State.VALIDATING, JobStatus.Work.BACKFILL, backfill, null, null)
                    : new Standing(
                            JobStatus.State.FAILED,
                            JobStatus.Work.BACKFILL,
                            backfill,
                            "the validation after the run did not start (the runner ended?)",
                            null,
                            NextStep.afterCancel(work, job));
        }
        Run v = verdict.run();
        switch (v.state()) {
            case COMPLETED -> {
                long mismatches = ValidationLedger.results(v.ledgerNotes()).stream()
                        .mapToLong(RuleResult::mismatches)
                        .sum();
                // Every range was applied, but the data says it is not done.
                return mismatches == 0
                        ? null
                        : new Standing(
                                JobStatus.State.FAILED,
                                JobStatus.Work.BACKFILL,
                                backfill,
                                String.format(Locale.ROOT, "validation found %,d mismatches", mismatches),
                                null,
                                run.spec() == null
                                        ? new NextStep(NextStep.Action.LIST_MISMATCHES, job)
                                        : NextStep.mismatches(run.spec()));
            }
            case STOPPED -> {
                return new Standing(
                        state(v),
                        work,
                        verdict,
                        "validation stopped before it checked every row",
                        v.stopReason(),
                        NextStep.continues(work, job));
            }
            default -> {
                String why = v.state() == RunState.RUNNING ? "the runner ended without recording it" : v.failure();
                return new Standing(
                        JobStatus.State.FAILED,
                        work,
                        verdict,
                        "validation did not finish (" + (why == null ? v.state() : why) + ")",
                        null,
                        NextStep.continues(work, job));
            }
        }
    }

    /** Whether the job validates after its run: as recorded when it started, else as its spec says. */
    private static boolean validatesAfterRun(LastExecution backfill) {
        if (backfill.validatesAfterRun() != null) {
            return backfill.validatesAfterRun();
        }
        JobSpec spec = backfill.run().spec();
        return spec != null
                && spec.validateAfterRun()
                && (!spec.validate().isEmpty() || spec.mode() == JobSpec.Mode.COPY);
    }
}
