package dev.sluice.jobs.cli;

import java.util.Locale;
import java.util.concurrent.Callable;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.CostEstimate;
import dev.sluice.engine.Finding;
import dev.sluice.engine.Plan;
import dev.sluice.engine.spec.JobSpec;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code sluice plan JOB}: preflight checks, the statements and their plans, an estimate. Writes nothing. */
@Command(
        name = "plan",
        mixinStandardHelpOptions = true,
        description = "Preflight checks, chunk statements with their plans, estimate; writes nothing.")
public class PlanCommand implements Callable<Integer> {

    @Parameters(paramLabel = "JOB", description = "a job name (config/jobs/JOB.yml) or a path to a spec")
    String job;

    @Mixin
    DatabaseOptions db;

    @Override
    public Integer call() throws Exception {
        JobSpec spec = JobArgument.spec(job, db);
        Plan p;
        CostEstimate cost;
        try (HikariDataSource ds = db.open("sluice plan " + spec.name())) {
            Backfill backfill = db.backfill(ds);
            p = backfill.plan(spec);
            cost = backfill.estimate(spec);
        }
        System.out.println("plan for job " + spec.name() + " ("
                + spec.mode().name().toLowerCase(Locale.ROOT).replace('_', '-') + ") on " + p.table());
        for (Finding f : p.findings()) {
            System.out.printf(
                    "  %-4s %-10s %s%n", f.level() == Finding.Level.OK ? "ok" : "WARN", f.check(), f.detail());
        }
        System.out.println();
        System.out.println("cost estimate:");
        for (String line : CostLines.of(cost)) {
            System.out.println("  " + line);
        }
        for (Plan.Statement s : p.statements()) {
            System.out.println();
            System.out.println(s.purpose() + ":");
            System.out.println("  " + s.sql());
            for (String line : s.plan()) {
                System.out.println("    " + line);
            }
        }
        return ExitCode.DONE;
    }
}
