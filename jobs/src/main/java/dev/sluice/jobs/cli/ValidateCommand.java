package dev.sluice.jobs.cli;

import java.util.concurrent.Callable;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.RunOptions;
import dev.sluice.engine.StopSignal;
import dev.sluice.engine.ValidationResult;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code sluice validate JOB [--json]}: run the spec's validation rules; exit 0 when clean, 3 on mismatches. */
@Command(
        name = "validate",
        mixinStandardHelpOptions = true,
        description = "Run the job's validation rules over every row; exit 3 on mismatches.")
public class ValidateCommand implements Callable<Integer> {

    @Parameters(paramLabel = "JOB", description = "a job name or a path to its spec")
    String job;

    @Option(names = "--json", description = "the report as one JSON object")
    boolean json;

    @Option(
            names = "--rows-per-second",
            paramLabel = "N",
            description = "check at most N rows per second (0 = unlimited;"
                    + " default: the spec's throttle.validate-rows-per-second, else its rows-per-second); 'tune' changes it while"
                    + " it runs")
    Long rowsPerSecond;

    @Mixin
    DatabaseOptions db;

    @Mixin
    FleetOptions fleet = new FleetOptions();

    @Override
    public Integer call() throws Exception {
        if (rowsPerSecond != null && rowsPerSecond < 0) {
            throw new SpecException("--rows-per-second", "must be 0 (unlimited) or more, got " + rowsPerSecond);
        }
        if (fleet.given()) {
            String name = FleetOptions.jobName(job, db);
            StopSignal stop = new StopSignal();
            Signals.stopOnTermination(stop);
            return fleet.each(db, "sluice validate " + name, false, false, (target, backfill) -> {
                JobSpec spec = backfill.recordedSpec(name)
                        .orElseThrow(() -> new SpecException("JOB", "job " + name + " has not run on " + target));
                RunOptions options = RunOptions.defaults()
                        .withStop(stop)
                        .withStandbys(db.standbys())
                        .validateRowsPerSecond(rowsPerSecond);
                return ValidationReport.print(name, backfill.validate(spec, options), json);
            });
        }
        JobSpec spec = JobArgument.spec(job, db);
        try (HikariDataSource ds = db.open("sluice validate " + spec.name())) {
            StopSignal stop = new StopSignal();
            Signals.stopOnTermination(stop);
            Progress progress = json ? null : Progress.console();
            RunOptions options = RunOptions.defaults()
                    .withStop(stop)
                    .withStandbys(db.standbys())
                    .validateRowsPerSecond(rowsPerSecond);
            ValidationResult result =
                    db.backfill(ds).validate(spec, progress == null ? options : options.withObserver(progress));
            if (progress != null) {
                progress.finish();
            }
            return ValidationReport.print(spec.name(), result, json);
        }
    }
}
