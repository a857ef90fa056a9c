package dev.sluice.engine.validation;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.NextStep;
import dev.sluice.engine.RuleResult;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.ValidationResult;
import dev.sluice.engine.checkpoint.Run;
import dev.sluice.engine.checkpoint.RunState;
import dev.sluice.engine.checkpoint.Work;
import dev.sluice.engine.control.Audit;
import dev.sluice.engine.keyset.Sql;
import dev.sluice.engine.launch.EngineContext;
import dev.sluice.engine.launch.Launcher;
import dev.sluice.engine.launch.RunResults;
import dev.sluice.engine.preflight.Prepared;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.validate.RangeCheck;
import dev.sluice.engine.validate.Recomputation;
import dev.sluice.engine.validate.Rule;
import dev.sluice.engine.validate.ValidationLedger;
import dev.sluice.engine.validate.Validator;

/**
 * Validation and repair as work under the job's lock: the rules over every row in keyset chunks (read-only,
 * throttled, restartable, the key log drained first), and the repair that re-applies the job where a rule finds a
 * row different, then validates again.
 */
public final class Validations {

    private final Launcher launcher;
    private final EngineContext context;

    public Validations(EngineContext context) {
        this.context = context;
        this.launcher = context.launcher();
    }

    /** The validation, under the job's lock as held by the caller. */
    public ValidationResult validate(JobSpec spec, RunOptions options, Launcher.RunnerHold hold) throws SQLException {
        long started = System.nanoTime();
        Prepared prepared = context.prepare(spec);
        if (hold.lock() != null) {
            launcher.sync().drain(prepared); // judge the rows, not the trigger's lag
        }
        RangeCheck check = prepared.defaultCheck() != null ? ownCheck(prepared) : validator(prepared);
        long rate = options.validateRowsPerSecond() != null
                ? options.validateRowsPerSecond()
                : spec.throttle().validationRate();
        if (options.metrics() != null) {
            launcher.states(options.metrics()).state(spec.name(), JobStatus.State.VALIDATING);
        }
        Launcher.Launched launched = launcher.launch(
                hold,
                Work.validation(prepared, check, rate, options.validateRowsPerSecond() != null),
                options,
                Launcher.Decider.AUXILIARY,
                null);
        if (launched.result() != null) {
            RunResult r = launched.result();
            return ValidationResult.unfinished(
                    r.outcome(),
                    r.outcome() == RunResult.Outcome.NOT_RUNNABLE
                            ? "job " + spec.name() + " is running" + launcher.holder(spec.name())
                                    + "; validate it when it is done"
                            : r.message(),
                    r.next());
        }
        Run run = launched.run();
        List<RuleResult> rules = ValidationLedger.results(run.ledgerNotes());
        if (options.metrics() != null) {
            launcher.states(options.metrics()).validation(spec.name(), rules);
        }
        RunResult outcome = RunResults.of(run, Work.Kind.VALIDATION, spec.name(), started);
        String message = run.state() == RunState.COMPLETED
                ? String.format(
                        Locale.ROOT, "validated %,d rows", run.checkpoint().rows())
                : outcome.message();
        long mismatches = rules.stream().mapToLong(RuleResult::mismatches).sum();
        return new ValidationResult(
                outcome.outcome(),
                message,
                rules,
                run.checkpoint().rows(),
                run.checkpoint().chunks(),
                RunResults.seconds(started),
                null,
                run.state() == RunState.COMPLETED && mismatches > 0 ? NextStep.mismatches(spec) : outcome.next());
    }

    /** See {@link Backfill#repair}. */
    public ValidationResult repair(JobSpec spec, RunOptions options, Audit.Entry audit) throws SQLException {
        List<String> differs = new ArrayList<>();
        for (JobSpec.ValidationRule r : spec.repairRules()) {
            differs.add(Sql.quote(r.target()) + " IS DISTINCT FROM (" + r.source() + ")");
        }
        if (differs.isEmpty()) {
            throw new SpecException(
                    "validate",
                    "no {target, source} rule covers a column of set: nothing tells which" + " rows to repair");
        }
        Prepared prepared = context.prepare(spec.forRepair(String.join(" OR ", differs)));
        audit.begin(); // past its checks: recorded before it writes
        try (Launcher.RunnerHold hold = launcher.new RunnerHold(spec.name())) {
            Launcher.Launched launched = launcher.launch(
                    hold, Work.repair(spec.name(), prepared), options, Launcher.Decider.AUXILIARY, null);
            if (launched.result() != null) {
                RunResult r = launched.result();
                String why = r.outcome() == RunResult.Outcome.NOT_RUNNABLE
                        ? "job " + spec.name() + " is running" + launcher.holder(spec.name())
                        : r.message();
                return ValidationResult.unfinished(
                        r.outcome(), "repair of " + spec.name() + " did not finish: " + why, r.next());
            }
            long repaired = launched.run().checkpoint().written();
            if (launched.run().state() != RunState.COMPLETED) {
                RunResult r = RunResults.of(launched.run(), Work.Kind.REPAIR, spec.name(), System.nanoTime());
                return ValidationResult.unfinished(r.outcome(), r.message(), r.next())
                        .afterRepair(repaired);
            }
            return validate(spec, options, hold).afterRepair(repaired);
        }
    }

    /** The job's own check; a transformer's leaves out the rows whose keys wait in the sync key log. */
    private RangeCheck ownCheck(Prepared prepared) throws SQLException {
        if (prepared.defaultCheck() instanceof Recomputation recompute) {
            String pending = launcher.sync().pending(prepared);
            return pending == null ? recompute : recompute.unless(pending);
        }
        return prepared.defaultCheck();
    }

    private Validator validator(Prepared prepared) throws SQLException {
        if (prepared.spec().validate().isEmpty()) {
            throw new SpecException(
                    "validate",
                    "no rules"
                            + (prepared.spec().mode() == JobSpec.Mode.JAVA
                                    ? ", and its transformer declares no check of its own"
                                    : "")
                            + " (add e.g. - { target: email_lower, source: lower(email) })");
        }
        List<Rule> rules = new ArrayList<>(
                Validator.rules(prepared.keyset().table(), prepared.spec().validate())); // type-checked
        if (prepared.spec().mode() != JobSpec.Mode.COPY) { // a copy's contract is the target's, not these rows'
            rules.addAll(Validator.contractRules(prepared.spec().contract()));
        }
        String pending = launcher.sync().pending(prepared);
        return new Validator(
                prepared.keyset(),
                pending == null
                        ? rules
                        : rules.stream().map(r -> r.unless(pending)).toList());
    }
}
