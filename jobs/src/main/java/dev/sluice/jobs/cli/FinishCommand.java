package dev.sluice.jobs.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.FinishResult;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecParser;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code sluice finish JOB [--purge]}: the contract step. */
@Command(
        name = "finish",
        mixinStandardHelpOptions = true,
        description = {
            "The contract step of a done job: drop its sync trigger (lock-safe), then run the spec's contract steps in"
                    + " order (not-null, index, check, foreign-key, drop-columns, rename-column), each lock-safe and"
                    + " recorded, so that a finish stopped at any instant goes on from the step it was in; the job"
                    + " becomes FINISHED. 'rollback' can still undo it all until 'finish --purge'.",
            "Only for a COMPLETED job whose last validation is clean: otherwise exit 4 with the reason. A step that"
                    + " cannot run lock-safe on the table: exit 2, nothing changed. Duplicate keys for a unique index,"
                    + " rows breaking a constraint: exit 3, named. A lock not granted: exit 1, finish again."
        })
final class FinishCommand implements Callable<Integer> {

    @Parameters(paramLabel = "JOB", description = "a job name or a path to its spec (its contract steps are run)")
    String job;

    @Option(
            names = "--purge",
            description = "drop the undo journal and the columns the contract set aside too: no rollback after it")
    boolean purge;

    @Mixin
    DatabaseOptions db;

    @Mixin
    FleetOptions fleet = new FleetOptions();

    @Override
    public Integer call() throws Exception {
        if (fleet.given()) {
            String name = FleetOptions.jobName(job, db);
            Path file = JobArgument.file(job, db.config());
            JobSpec given = file == null ? null : SpecParser.read(file);
            return fleet.each(
                    db,
                    "sluice finish " + name,
                    false,
                    true,
                    (target, backfill) -> finish(backfill.finish(name, given, purge, ControlCommand.operator())));
        }
        String name = JobArgument.name(job, db);
        // A spec file given (or found under config/jobs) says the contract steps and their timeouts.
        Path file = JobArgument.file(job, db.config());
        JobSpec given = file == null ? null : SpecParser.read(file);
        try (HikariDataSource ds = db.open("sluice finish " + name)) {
            return finish(db.backfill(ds).finish(name, given, purge, ControlCommand.operator()));
        }
    }

    private static int finish(FinishResult r) {
        for (FinishResult.Step s : r.steps()) {
            System.out.println(String.format(
                    Locale.ROOT,
                    "sluice: %s %s (%.1f s)",
                    s.step(),
                    s.already() ? "was in place already" : "done",
                    s.seconds()));
        }
        String said = Said.then(r.message(), r.next());
        if (r.finished()) {
            System.out.println(said);
            return ExitCode.DONE;
        }
        System.err.println("sluice: " + said);
        return switch (r.outcome()) {
            case MISMATCHES -> ExitCode.MISMATCHES;
            case FAILED -> ExitCode.FAILED;
            default -> ExitCode.NOT_RUNNABLE;
        };
    }
}
