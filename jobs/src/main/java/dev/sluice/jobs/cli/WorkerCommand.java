package dev.sluice.jobs.cli;

import java.util.concurrent.Callable;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.StopSignal;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code sluice worker}: a long-running process that takes partitions of the database's remote-partitioned jobs
 * ({@code workers: remote}) and runs them, {@code --threads} at once, until SIGTERM; then the partitions it runs stop
 * after their chunk and are handed back to their runners, which send them to other workers.
 */
@Command(
        name = "worker",
        mixinStandardHelpOptions = true,
        description = {
            "Take partitions of remote-partitioned jobs (workers: remote) from the database and run them, until"
                    + " SIGTERM.",
            "Partitions running at SIGTERM stop after their chunk and go to other workers."
        })
public class WorkerCommand implements Callable<Integer> {

    @Option(
            names = "--threads",
            paramLabel = "N",
            description = "partitions run at once (default: the machine's cores, at most 32)")
    Integer threads;

    @Mixin
    DatabaseOptions db;

    @Override
    public Integer call() throws Exception {
        int n = threads == null
                ? Math.min(JobSpec.MAX_PARALLEL, Runtime.getRuntime().availableProcessors())
                : threads;
        if (n < 1 || n > JobSpec.MAX_PARALLEL) {
            throw new SpecException("--threads", "must be between 1 and " + JobSpec.MAX_PARALLEL + ", got " + n);
        }
        // Per partition: its chunk, its lock, a read ahead or a lock-waiters watch, health queries; and the listener.
        try (HikariDataSource ds = db.open("sluice worker", 8 + 4 * n)) {
            Backfill backfill = db.backfill(ds);
            StopSignal stop = new StopSignal();
            Signals.stopOnTermination(stop);
            System.out.println("sluice: worker taking partitions of remote jobs, " + n + " at a time, database "
                    + db.describe() + " (SIGTERM stops)");
            backfill.work(RunOptions.defaults().withStop(stop).withStandbys(db.standbys()), n);
            System.out.println("sluice: worker stopped");
            return ExitCode.DONE;
        }
    }
}
