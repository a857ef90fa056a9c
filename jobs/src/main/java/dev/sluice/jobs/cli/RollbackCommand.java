package dev.sluice.jobs.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.StopSignal;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecParser;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code sluice rollback JOB [--force]}: restore what a job overwrote, from its undo journal. */
@Command(
        name = "rollback",
        mixinStandardHelpOptions = true,
        description = {
            "Restore what a job overwrote, from its undo journal, newest chunk first: throttled, pausable and"
                    + " resumable like the backfill; the job ends ROLLED_BACK.",
            "Rows changed by others since Sluice wrote them are left and reported (exit 3) unless --force."
        })
final class RollbackCommand implements Callable<Integer> {

    @Parameters(paramLabel = "JOB", description = "a job name or a path to its spec")
    String job;

    @Option(names = "--force", description = "restore rows changed by others since Sluice wrote them too")
    boolean force;

    @Mixin
    DatabaseOptions db;

    @Mixin
    FleetOptions fleet = new FleetOptions();

    @Override
    public Integer call() throws Exception {
        if (fleet.given()) {
            // The last wave first: the canary, rolled out first, is rolled back last.
            String name = FleetOptions.jobName(job, db);
            Path file = JobArgument.file(job, db.config());
            JobSpec tuning = file == null ? null : SpecParser.read(file);
            StopSignal stop = new StopSignal();
            Signals.stopOnTermination(stop);
            return fleet.each(
                    db,
                    "sluice rollback " + name,
                    true,
                    true,
                    (target, backfill) -> RunCommand.report(backfill.rollback(
                            name, tuning, RunOptions.defaults().withStop(stop).withStandbys(db.standbys()), force)));
        }
        String name = JobArgument.name(job, db);
        // A spec file given (or found under config/jobs) sets the pace: its throttle, chunk sizing, health, timeouts.
        Path file = JobArgument.file(job, db.config());
        JobSpec tuning = file == null ? null : SpecParser.read(file);
        try (HikariDataSource ds = db.open("sluice rollback " + name)) {
            StopSignal stop = new StopSignal();
            Signals.stopOnTermination(stop);
            Progress progress = Progress.console(
                    "sluice: rolling back " + name + " from its undo journal, database " + db.describe());
            RunResult r = db.backfill(ds)
                    .rollback(
                            name,
                            tuning,
                            RunOptions.defaults()
                                    .withStop(stop)
                                    .withObserver(progress)
                                    .withStandbys(db.standbys()),
                            force);
            progress.finish();
            return RunCommand.report(r);
        }
    }
}
