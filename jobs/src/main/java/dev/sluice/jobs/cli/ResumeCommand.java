package dev.sluice.jobs.cli;

import java.util.concurrent.Callable;

import dev.sluice.engine.RunOptions;
import dev.sluice.engine.spec.JobSpec;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sluice resume JOB}: continue a FAILED or STOPPED job from its checkpoint. Works from the job's name
 * alone: without a spec file, the spec recorded when the job started is used.
 */
@Command(
        name = "resume",
        mixinStandardHelpOptions = true,
        description = "Continue a FAILED or STOPPED job from its checkpoint.")
public class ResumeCommand implements Callable<Integer> {

    @Parameters(paramLabel = "JOB", description = "a job name or a path to its spec")
    String job;

    @Option(names = "--force", description = "resume even though table, key, where or set changed")
    boolean force;

    @Mixin
    FleetOptions fleet = new FleetOptions();

    @Mixin
    MetricsOptions metrics = new MetricsOptions();

    @Mixin
    DatabaseOptions db;

    @Override
    public Integer call() throws Exception {
        metrics.check();
        if (fleet.given()) {
            return FleetRun.rollout(
                    fleet,
                    db,
                    metrics,
                    job,
                    null,
                    RunOptions.defaults().resumeOnly(true).force(force));
        }
        JobSpec spec = JobArgument.spec(job, db);
        RunCommand run = new RunCommand();
        run.db = db;
        run.metrics = metrics;
        return run.execute(spec, RunOptions.defaults().resumeOnly(true).force(force));
    }
}
