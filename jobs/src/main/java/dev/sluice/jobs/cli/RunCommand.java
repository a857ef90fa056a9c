package dev.sluice.jobs.cli;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.DryRunResult;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.StopSignal;
import dev.sluice.engine.ValidationResult;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code sluice run JOB}: start a job, or continue its unfinished execution from the checkpoint. */
@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description = "Start a job, or continue its unfinished execution from the checkpoint.")
public class RunCommand implements Callable<Integer> {

    @Parameters(paramLabel = "JOB", description = "a job name (config/jobs/JOB.yml) or a path to a spec")
    String job;

    @Option(names = "--again", description = "start over a job that has completed")
    boolean again;

    @Option(names = "--force", description = "resume even though table, key, where or set changed")
    boolean force;

    @Option(names = "--dry-run", description = "apply one chunk in a transaction that is rolled back, show a sample")
    boolean dryRun;

    @Option(
            names = "--only-mismatched",
            description = "repair: re-apply set only where validation finds a mismatch," + " then validate again")
    boolean onlyMismatched;

    @Option(
            names = "--keep-in-step",
            description = "once the job is complete, stay and keep its rows in step with the"
                    + " application's writes (a Java or cross-database job's sync trigger logs them) until finish drops the"
                    + " trigger, or SIGTERM")
    boolean keepInStep;

    @Option(
            names = "--workers",
            paramLabel = "local|remote",
            description = "where the partitions run, over the spec's workers: here (local), or taken by 'sluice"
                    + " worker' processes (remote)")
    String workers;

    @Mixin
    FleetOptions fleet = new FleetOptions();

    @Mixin
    MetricsOptions metrics = new MetricsOptions();

    @Mixin
    DatabaseOptions db;

    @Override
    public Integer call() throws Exception {
        metrics.check();
        JobSpec.Workers where = workers(workers);
        if (fleet.given()) {
            if (dryRun || onlyMismatched || keepInStep) {
                throw new SpecException(
                        "--fleet",
                        "runs the job's rollout; --dry-run, --only-mismatched and --keep-in-step are for one"
                                + " database (--jdbc-url)");
            }
            return FleetRun.rollout(
                    fleet,
                    db,
                    metrics,
                    job,
                    where,
                    RunOptions.defaults().again(again).force(force));
        }
        JobSpec spec = JobArgument.spec(job, db);
        if (where != null) {
            spec = spec.withWorkers(where);
        }
        return execute(spec, RunOptions.defaults().again(again).force(force));
    }

    int execute(JobSpec spec, RunOptions options) throws Exception {
        try (HikariDataSource ds = db.open("sluice " + spec.name())) {
            Backfill backfill = db.backfill(ds);
            if (dryRun) {
                return dryRun(backfill, spec);
            }
            try (MetricsOptions.Published published = metrics.open(spec.name())) {
                if (published == null) {
                    return execute(backfill, spec, options);
                }
                published.started();
                return execute(backfill, spec, options.withMetrics(published.registry()));
            }
        }
    }

    private int execute(Backfill backfill, JobSpec spec, RunOptions options) throws Exception {
        StopSignal stop = new StopSignal();
        Signals.stopOnTermination(stop);
        Progress progress = Progress.console(
                onlyMismatched
                        ? "sluice: repairing " + spec.name() + " where validation finds mismatches, database "
                                + db.describe()
                        : "sluice: running " + spec.name() + " on " + spec.table() + ", database " + db.describe());
        RunOptions wired = options.withStop(stop).withObserver(progress).withStandbys(db.standbys());
        if (onlyMismatched) {
            ValidationResult repaired = backfill.repair(spec, wired);
            progress.finish();
            if (repaired.repaired() != null) {
                System.out.printf(
                        Locale.ROOT,
                        "sluice: repaired %,d rows of %s (set applied again where a rule found" + " them different)%n",
                        repaired.repaired(),
                        spec.name());
            }
            return ValidationReport.print(spec.name(), repaired, false);
        }
        RunResult result = backfill.run(spec, wired);
        progress.finish();
        if (result.validation() != null) {
            ValidationReport.print(spec.name(), result.validation(), false);
        }
        int code = report(result);
        if (keepInStep
                && !stop.requested()
                && (result.outcome() == RunResult.Outcome.COMPLETED
                        || result.outcome() == RunResult.Outcome.ALREADY_COMPLETE)) {
            keepInStep(backfill, spec, stop);
        }
        return code;
    }

    /** {@code --workers}, checked before anything else is read: null when not given. */
    static JobSpec.Workers workers(String given) {
        if (given == null) {
            return null;
        }
        for (JobSpec.Workers w : JobSpec.Workers.values()) {
            if (w.written().equals(given)) {
                return w;
            }
        }
        throw new SpecException("--workers", "must be local or remote, got '" + given + "'");
    }

    // How often a completed job's key log is drained while the command stays: the lag require --sync-lag allows
    // must be longer than this.
    private static final Duration KEEP_IN_STEP_EVERY = Duration.ofSeconds(1);

    private static void keepInStep(Backfill backfill, JobSpec spec, StopSignal stop) throws Exception {
        if (spec.sync() != JobSpec.Sync.TRIGGER || !spec.writes().syncLogsKeys()) {
            System.out.println("sluice: " + spec.name() + "'s sync trigger keeps its rows in step by itself; nothing to"
                    + " keep in step here");
            return;
        }
        System.out.println("sluice: keeping " + spec.name() + " in step with the application's writes until 'finish "
                + spec.name() + "' drops its trigger (SIGTERM stops)");
        long keys = backfill.keepInStep(spec, KEEP_IN_STEP_EVERY, stop);
        System.out.printf(
                Locale.ROOT, "sluice: %s: %,d changed keys re-applied while keeping in step%n", spec.name(), keys);
    }

    static int report(RunResult r) {
        String summary = String.format(
                Locale.ROOT,
                "%s: %,d rows in %,d chunks (%,d written), %.1fs",
                r.message(),
                r.rows(),
                r.chunks(),
                r.written(),
                r.seconds());
        switch (r.outcome()) {
            case COMPLETED, ALREADY_COMPLETE -> {
                System.out.println(
                        r.outcome() == RunResult.Outcome.COMPLETED ? Said.then(summary, r.next()) : Said.run(r));
                return ExitCode.DONE;
            }
            case STOPPED -> {
                System.out.println(Said.then(summary, r.next()));
                return ExitCode.STOPPED;
            }
            case MISMATCHES -> {
                System.out.println(Said.then(summary, r.next()));
                return ExitCode.MISMATCHES;
            }
            case NOT_RUNNABLE -> {
                System.err.println("sluice: " + Said.run(r));
                return ExitCode.NOT_RUNNABLE;
            }
            default -> {
                System.err.println("sluice: " + Said.run(r));
                return ExitCode.FAILED;
            }
        }
    }

    private static int dryRun(Backfill backfill, JobSpec spec) throws Exception {
        DryRunResult report = backfill.dryRun(spec);
        if (report == null) {
            System.out.println("dry run: " + spec.table() + " has no rows; nothing to apply");
            return ExitCode.DONE;
        }
        System.out.printf(
                Locale.ROOT,
                "dry run of %s: first chunk %s, %,d rows in range, %,d written, %.3fs;" + " rolled back%n",
                spec.name(),
                report.range(),
                report.range().rows(),
                report.written(),
                report.seconds());
        for (DryRunResult.Sample s : report.samples()) {
            for (int i = 0; i < report.columns().size(); i++) {
                System.out.printf(
                        "  key %s  %s: %s -> %s%n",
                        s.key(),
                        report.columns().get(i),
                        i < s.before().size() ? s.before().get(i) : "?",
                        i < s.after().size() ? s.after().get(i) : "?");
            }
        }
        return ExitCode.DONE;
    }
}
