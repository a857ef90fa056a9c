package dev.sluice.jobs.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.AuditEntry;
import dev.sluice.engine.Backfill;
import dev.sluice.engine.JobStatus;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import tools.jackson.databind.json.JsonMapper;

/** {@code sluice list [--json]}: every job the database records, its state, table, last run and who ran it. */
@Command(
        name = "list",
        mixinStandardHelpOptions = true,
        description = "List every job recorded in the database (not only those with spec files here): state, table,"
                + " when it last ran and who ran it.")
final class ListCommand implements Callable<Integer> {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Option(names = "--json", description = "one JSON object per job, one per line")
    boolean json;

    @Mixin
    DatabaseOptions db;

    @Override
    public Integer call() throws Exception {
        db.check();
        List<JobStatus> jobs;
        Map<String, AuditEntry> lastRuns;
        try (HikariDataSource ds = db.open("sluice list")) {
            Backfill backfill = db.backfill(ds);
            jobs = backfill.statuses();
            lastRuns = backfill.lastRuns();
        }
        if (json) {
            for (JobStatus s : jobs) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("job", s.job());
                m.put("table", s.table());
                m.put("state", s.state().name());
                AuditEntry last = lastRuns.get(s.job());
                m.put("lastRun", last == null ? null : last.at().toString());
                m.put("lastRunCommand", last == null ? null : last.command());
                m.put("lastRunBy", last == null ? null : last.actor().describe());
                m.put("lastRunOutcome", last == null ? null : last.outcome());
                System.out.println(JSON.writeValueAsString(m));
            }
            return ExitCode.DONE;
        }
        if (jobs.isEmpty()) {
            System.out.println("no jobs are recorded in this database");
            return ExitCode.DONE;
        }
        System.out.printf("%-28s %-12s %-28s %-20s %s%n", "JOB", "STATE", "TABLE", "LAST RUN (UTC)", "BY");
        for (JobStatus s : jobs) {
            AuditEntry last = lastRuns.get(s.job());
            System.out.printf(
                    "%-28s %-12s %-28s %-20s %s%n",
                    s.job(),
                    s.state(),
                    s.table() == null ? "-" : s.table(),
                    last == null ? "-" : Said.when(last.at()),
                    last == null ? "-" : last.actor().describe());
        }
        return ExitCode.DONE;
    }
}
