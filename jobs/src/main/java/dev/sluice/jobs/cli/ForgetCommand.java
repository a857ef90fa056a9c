package dev.sluice.jobs.cli;

import java.util.concurrent.Callable;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code sluice forget JOB}: a job's records deleted once nothing of it is left to undo or finish. */
@Command(
        name = "forget",
        mixinStandardHelpOptions = true,
        description = {
            "Delete a job's records from the job repository (its runs, checkpoints, validations, contract record):"
                    + " for a job FINISHED and purged, ROLLED_BACK, CANCELLED or never run. Its audit trail stays.",
            "Refused (exit 4, nothing deleted) while it runs, while its sync trigger, undo journal or set-aside"
                    + " columns exist, or in any other state."
        })
final class ForgetCommand implements Callable<Integer> {

    @Parameters(paramLabel = "JOB", description = "a job name or a path to its spec")
    String job;

    @Mixin
    DatabaseOptions db;

    @Override
    public Integer call() throws Exception {
        String name = JobArgument.recordName(job, db);
        try (HikariDataSource ds = db.open("sluice forget " + name)) {
            Backfill.ControlResult r = db.backfill(ds).forget(name);
            if (!r.ok()) {
                System.err.println("sluice: " + r.message());
                return ExitCode.NOT_RUNNABLE;
            }
            System.out.println(r.message());
            return ExitCode.DONE;
        }
    }
}
