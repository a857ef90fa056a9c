package dev.sluice.jobs.cli;

import java.util.concurrent.Callable;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.SpecParser;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sluice resume JOB}: continue a FAILED or STOPPED job from its checkpoint. Works from the job's name
 * alone: without a spec file, the spec recorded when the job started is used.
 */
@Command(name = "resume", description = "Continue a FAILED or STOPPED job from its checkpoint.")
public class ResumeCommand implements Callable<Integer> {

    @Parameters(paramLabel = "JOB", description = "a job name or a path to its spec")
    String job;

    @Option(names = "--force", description = "resume even though table, key, where or set changed")
    boolean force;

    @Mixin
    DatabaseOptions db;

    @Override
    public Integer call() throws Exception {
        JobSpec spec;
        if (JobArgument.file(job, db.config()) != null) {
            spec = JobArgument.read(job, db.config());
        } else {
            try (HikariDataSource ds = db.open("sluice resume " + job)) {
                spec = new Backfill(ds, db.schema()).recordedSpec(job).orElseThrow(() ->
                        new SpecException("JOB", "no spec file for '" + job + "' and no job of that name has run"));
            }
            // Re-parse: the recorded spec passes the same checks as a file would.
            spec = SpecParser.parse(SpecParser.toYaml(spec));
        }
        RunCommand run = new RunCommand();
        run.db = db;
        return run.execute(spec, RunOptions.defaults().resumeOnly(true).force(force));
    }
}
