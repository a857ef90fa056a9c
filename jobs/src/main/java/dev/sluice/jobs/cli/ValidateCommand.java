package dev.sluice.jobs.cli;

import java.util.concurrent.Callable;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.RunOptions;
import dev.sluice.engine.control.StopSignal;
import dev.sluice.engine.spec.JobSpec;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code sluice validate JOB [--json]}: run the spec's validation rules; exit 0 when clean, 3 on mismatches. */
@Command(name = "validate", mixinStandardHelpOptions = true, description = "Run the job's validation rules over every row; exit 3 on mismatches.")
public class ValidateCommand implements Callable<Integer> {

    @Parameters(paramLabel = "JOB", description = "a job name or a path to its spec")
    String job;

    @Option(names = "--json", description = "the report as one JSON object")
    boolean json;

    @Mixin
    DatabaseOptions db;

    @Override
    public Integer call() throws Exception {
        JobSpec spec = JobArgument.spec(job, db);
        try (HikariDataSource ds = db.open("sluice validate " + spec.name())) {
            StopSignal stop = new StopSignal();
            Signals.stopOnTermination(stop);
            return ValidationReport.print(spec.name(), db.backfill(ds).validate(spec,
                    RunOptions.defaults().withStop(stop).withStandbys(db.standbys())), json);
        }
    }
}
