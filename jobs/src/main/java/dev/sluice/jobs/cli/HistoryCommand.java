package dev.sluice.jobs.cli;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.AuditEntry;
import dev.sluice.engine.StatusJson;
import dev.sluice.engine.spec.SpecException;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.json.JsonMapper;

/** {@code sluice history JOB [--json]}: the job's audit trail, who ran what, when, from where, and how it ended. */
@Command(
        name = "history",
        mixinStandardHelpOptions = true,
        description = {
            "Show the audit trail of a job: every command that changed it (run, resume, pause, cancel, tune,"
                    + " rollback, finish, purge, forget), when, who asked and from where, the database user and client"
                    + " address, the spec's digest, and the outcome. Oldest first.",
            "A command still running (or whose process died) shows as 'running'."
        })
final class HistoryCommand implements Callable<Integer> {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Parameters(paramLabel = "JOB", description = "a job name or a path to its spec")
    String job;

    @Option(names = "--json", description = "one JSON object per command, one per line")
    boolean json;

    @Mixin
    DatabaseOptions db;

    @Override
    public Integer call() throws Exception {
        String name = JobArgument.recordName(job, db);
        List<AuditEntry> trail;
        try (HikariDataSource ds = db.open("sluice history " + name)) {
            trail = db.backfill(ds).history(name);
        }
        if (trail.isEmpty()) {
            throw new SpecException("JOB", "no command is recorded for job " + name + " in this database");
        }
        if (json) {
            for (Map<String, Object> m : StatusJson.audit(trail)) {
                System.out.println(JSON.writeValueAsString(m));
            }
            return ExitCode.DONE;
        }
        System.out.printf("%-20s %-9s %-40s %-11s %s%n", "WHEN (UTC)", "COMMAND", "WHO", "OUTCOME", "DETAIL");
        for (AuditEntry e : trail) {
            String options = e.options().isEmpty() ? "" : " " + e.options();
            System.out.printf(
                    "%-20s %-9s %-40s %-11s %s%n",
                    Said.when(e.at()),
                    e.command(),
                    e.actor().describe() + " as " + e.databaseUser()
                            + (e.clientAddress() != null ? " from " + e.clientAddress() : ""),
                    e.outcome(),
                    (e.message() == null ? "" : e.message())
                            + options
                            + (e.specDigest() != null
                                    ? " spec " + e.specDigest().substring(0, 12)
                                    : ""));
        }
        return ExitCode.DONE;
    }
}
