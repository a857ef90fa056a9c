package dev.sluice.jobs.cli;

import java.util.concurrent.Callable;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code sluice finish JOB}: the contract step for Sluice's own objects. */
@Command(
        name = "finish",
        mixinStandardHelpOptions = true,
        description = {
            "Drop a done job's sync trigger (lock-safe); the job becomes FINISHED.",
            "Only for a COMPLETED job whose last validation is clean: otherwise exit 4 with the reason."
        })
final class FinishCommand implements Callable<Integer> {

    @Parameters(paramLabel = "JOB", description = "a job name or a path to its spec")
    String job;

    @Mixin
    DatabaseOptions db;

    @Override
    public Integer call() throws Exception {
        String name = JobArgument.name(job, db);
        try (HikariDataSource ds = db.open("sluice finish " + name)) {
            Backfill.ControlResult r = db.backfill(ds).finish(name, ControlCommand.operator());
            if (!r.ok()) {
                System.err.println("sluice: " + Said.control(r));
                return ExitCode.NOT_RUNNABLE;
            }
            System.out.println(Said.control(r));
            return ExitCode.DONE;
        }
    }
}
