package dev.sluice.jobs.cli;

import java.util.concurrent.Callable;

import com.zaxxer.hikari.HikariDataSource;

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

    /** The spec for JOB: its file if there is one, else the spec recorded when the job last started. */
    static JobSpec spec(String job, DatabaseOptions db) {
        if (JobArgument.file(job, db.config()) != null) {
            return JobArgument.read(job, db.config());
        }
        JobSpec recorded;
        try (HikariDataSource ds = db.open("sluice " + job)) {
            recorded = db.backfill(ds).recordedSpec(job).orElseThrow(() ->
                    new SpecException("JOB", "no spec file for '" + job + "' and no job of that name has run"));
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        // Re-parse: the recorded spec passes the same checks as a file would.
        return SpecParser.parse(SpecParser.toYaml(recorded));
    }

    @Override
    public Integer call() throws Exception {
        JobSpec spec = spec(job, db);
        RunCommand run = new RunCommand();
        run.db = db;
        return run.execute(spec, RunOptions.defaults().resumeOnly(true).force(force));
    }
}
