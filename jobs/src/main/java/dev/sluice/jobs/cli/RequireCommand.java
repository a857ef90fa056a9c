package dev.sluice.jobs.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.JobNotDoneException;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.spec.Durations;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code sluice require JOB...}: the gate a deployment pipeline puts before the contract step. */
@Command(
        name = "require",
        mixinStandardHelpOptions = true,
        description = {
            "Exit 0 if every job is COMPLETED or FINISHED with a clean validation (and its sync trigger in"
                    + " step), else exit 4 naming the first job that is not done and why.",
            "For CI/CD: run it before the migration that drops the old column."
        })
final class RequireCommand implements Callable<Integer> {

    @Parameters(paramLabel = "JOB", arity = "1..*", description = "job names or paths to their specs")
    List<String> jobs;

    @Option(
            names = "--sync-lag",
            paramLabel = "DURATION",
            description = "a job whose sync trigger logs keys (Java,"
                    + " cross-database) is done while the oldest key waiting to be re-applied is younger than this (something"
                    + " keeps it in step: 'run --keep-in-step', serve); default 0: none may wait")
    String syncLag = "0s";

    @Mixin
    DatabaseOptions db;

    @Mixin
    FleetOptions fleet = new FleetOptions();

    @Override
    public Integer call() throws Exception {
        if (fleet.given()) {
            Duration lag = ControlCommand.parse("--sync-lag", syncLag);
            List<String> names = new ArrayList<>();
            for (String job : jobs) {
                names.add(FleetOptions.jobName(job, db));
            }
            return fleet.each(db, "sluice require", false, false, (target, backfill) -> {
                try {
                    print(backfill.require(lag, names.toArray(String[]::new)), lag);
                    return ExitCode.DONE;
                } catch (JobNotDoneException e) {
                    System.err.println("sluice: target " + target + ": " + e.getMessage());
                    return ExitCode.NOT_RUNNABLE;
                }
            });
        }
        List<String> names = new ArrayList<>();
        for (String job : jobs) {
            names.add(JobArgument.name(job, db));
        }
        try (HikariDataSource ds = db.open("sluice require")) {
            Duration lag = ControlCommand.parse("--sync-lag", syncLag);
            print(db.backfill(ds).require(lag, names.toArray(String[]::new)), lag);
            return ExitCode.DONE;
        } catch (JobNotDoneException e) {
            System.err.println("sluice: " + e.getMessage());
            return ExitCode.NOT_RUNNABLE;
        }
    }

    private static void print(List<JobStatus> done, Duration lag) {
        for (JobStatus s : done) {
            System.out.printf(
                    Locale.ROOT,
                    "done: %s %s (%,d rows validated, 0 mismatches%s)%n",
                    s.job(),
                    s.state(),
                    s.validation() == null ? 0 : s.validation().rowsChecked(),
                    s.sync() == null
                            ? ""
                            : s.sync().dropped()
                                    ? ", sync trigger dropped"
                                    : ", sync trigger installed" + waiting(s, lag));
        }
    }

    /** Keys still waiting in a job's key log, within the lag allowed: said, not hidden. */
    private static String waiting(JobStatus s, Duration lag) {
        Long keys = s.sync().pendingKeys();
        if (keys == null || keys == 0) {
            return "";
        }
        return String.format(
                Locale.ROOT,
                "; %,d changed keys waiting to be re-applied, the oldest %,.0f s old, within" + " --sync-lag %s",
                keys,
                s.sync().oldestPendingSeconds(),
                Durations.format(lag));
    }
}
