package dev.sluice.jobs.cli;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.JobStatus;
import dev.sluice.engine.NextStep;
import dev.sluice.engine.StatusJson;
import dev.sluice.engine.spec.JobSpec;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.json.JsonMapper;

/** {@code sluice status [JOB] [--json]}: state, progress, rate, ETA and last error, from any process. */
@Command(
        name = "status",
        mixinStandardHelpOptions = true,
        description = "Show state, progress, rate, ETA and last error of one job or all.")
public class StatusCommand implements Callable<Integer> {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Parameters(
            paramLabel = "JOB",
            arity = "0..1",
            description = "a job name or a path to its spec; all jobs if omitted")
    String job;

    @Option(names = "--json", description = "one JSON object per job, one per line")
    boolean json;

    @Mixin
    DatabaseOptions db;

    @Mixin
    FleetOptions fleet = new FleetOptions();

    @Override
    public Integer call() throws Exception {
        if (fleet.given()) {
            return FleetStatus.print(fleet, db, job, json);
        }
        String name = job == null ? null : JobArgument.name(job, db);
        List<JobStatus> jobs;
        try (HikariDataSource ds = db.open("sluice status")) {
            jobs = new ArrayList<>(
                    name == null
                            ? db.backfill(ds).statuses()
                            : List.of(db.backfill(ds).status(name)));
        }
        if (name == null) {
            addNeverStarted(jobs);
        }
        if (json) {
            for (JobStatus s : jobs) {
                System.out.println(JSON.writeValueAsString(StatusJson.of(s)));
            }
        } else if (jobs.isEmpty()) {
            System.out.println("no jobs have run on this database");
        } else {
            System.out.printf(
                    "%-28s %-12s %-26s %12s %8s  %s%n", "JOB", "STATE", "PROGRESS", "ROWS/S", "ETA", "LAST KEY");
            for (JobStatus s : jobs) {
                System.out.printf(
                        Locale.ROOT,
                        "%-28s %-12s %-26s %,12.0f %8s  %s%n",
                        s.job(),
                        s.state(),
                        String.format(
                                Locale.ROOT,
                                "%5.1f%% %,d/~%,d",
                                s.progress() * 100,
                                s.rowsProcessed(),
                                s.rowsEstimated()),
                        s.rowsPerSecond(),
                        s.etaSeconds() == null ? "-" : Progress.duration(s.etaSeconds()),
                        s.lastKey().isEmpty() ? "-" : String.join(", ", s.lastKey()));
                if (s.work() == JobStatus.Work.ROLLBACK) {
                    System.out.printf(
                            Locale.ROOT,
                            "    rollback: %,d of %,d journaled rows gone through, %,d restored%n",
                            s.rowsProcessed(),
                            s.rowsEstimated(),
                            s.rowsWritten());
                } else if (s.work() != JobStatus.Work.BACKFILL && s.running()) {
                    System.out.println("    now: its " + s.work().name().toLowerCase(Locale.ROOT)
                            + (s.work() == JobStatus.Work.VALIDATION ? " (rows/s and ETA: rows checked)" : ""));
                }
                if (s.throttleReason() != null) {
                    System.out.println("    throttled: " + s.throttleReason());
                }
                if (s.walBytesPerSecond() > 0) {
                    System.out.printf(
                            Locale.ROOT, "    WAL: %,.0f bytes/s over the last minute%n", s.walBytesPerSecond());
                }
                if (s.lastError() != null) {
                    System.out.println("    last error: " + Said.then(s.lastError(), s.next()));
                } else if (wayOn(s) != null) {
                    System.out.println("    " + wayOn(s));
                }
                if (s.sync() != null) {
                    System.out.println("    sync trigger: " + syncLine(s.sync()));
                }
                if (s.undo() != null && s.undo().rows() > 0) {
                    System.out.printf(
                            Locale.ROOT,
                            "    undo journal: %,d rows, %,d bytes (%s)%n",
                            s.undo().rows(),
                            s.undo().bytes(),
                            undoHint(s));
                }
                if (s.contract() != null) {
                    System.out.println("    contract: "
                            + s.contract().steps().stream()
                                    .map(c -> c.step() + " " + c.state())
                                    .collect(java.util.stream.Collectors.joining(", "))
                            + (s.contract().purged()
                                    ? "; purged: no way back"
                                    : s.contract().undoable()
                                            ? "; 'rollback " + s.job() + "' undoes it, until 'finish " + s.job()
                                                    + " --purge'"
                                            : ""));
                }
                for (JobStatus.Partition p : s.partitions()) {
                    System.out.printf(
                            Locale.ROOT,
                            "    partition %-14s %-10s %,12d rows  keys (%s, %s]  last key %s%s%n",
                            p.name(),
                            p.state(),
                            p.rows(),
                            p.from().isEmpty() ? "start" : String.join(", ", p.from()),
                            p.to().isEmpty() ? "end" : String.join(", ", p.to()),
                            p.lastKey().isEmpty() ? "-" : String.join(", ", p.lastKey()),
                            p.worker() == null
                                    ? ""
                                    : "  worker pid " + p.worker().pid()
                                            + (p.worker().host() == null
                                                    ? ""
                                                    : " on " + p.worker().host()));
                }
                if (s.validation() != null) {
                    System.out.printf(
                            Locale.ROOT,
                            "    last validation %s: %,d rows checked, %,d mismatches%s%n",
                            s.validation().at(),
                            s.validation().rowsChecked(),
                            s.validation().mismatches(),
                            s.validation().complete() ? "" : " (unfinished)");
                }
            }
        }
        return ExitCode.DONE;
    }

    /** Why a job that is not running stopped, and what continues it, where its last error does not say. */
    private static String wayOn(JobStatus s) {
        String why = s.stopReason() != null ? s.stopReason() : s.state().name().toLowerCase(Locale.ROOT);
        return switch (s.state()) {
            case PAUSED, STOPPED, CANCELLED ->
                s.next() == null ? why : why + ": " + s.next().clause();
            case ROLLED_BACK ->
                s.next() == null ? "rolled back" : "rolled back: " + s.next().clause();
            default -> null;
        };
    }

    private static String syncLine(JobStatus.Sync sync) {
        String state = sync.dropped()
                ? "dropped by " + ("rollback".equals(sync.droppedBy()) ? "the rollback" : "finish")
                : sync.installed() ? "installed on " + sync.table() : "NOT installed";
        return state
                + (sync.pendingKeys() != null && sync.pendingKeys() > 0
                        ? String.format(
                                Locale.ROOT,
                                ", %,d changed keys to re-apply%s",
                                sync.pendingKeys(),
                                sync.oldestPendingSeconds() == null
                                        ? ""
                                        : String.format(
                                                Locale.ROOT,
                                                " (the oldest waiting %,.0f s)",
                                                sync.oldestPendingSeconds()))
                        : "");
    }

    /**
     * What restores the journal's rows from where the job stands: a runner must let go first; rows others changed
     * since Sluice wrote them come back only with --force.
     */
    private static String undoHint(JobStatus s) {
        String job = s.job();
        if (s.state() == JobStatus.State.ROLLING_BACK) {
            return "the rollback restores them";
        }
        if (s.running()) {
            return "'pause " + job + "', then " + rollback(job).command() + " restores them";
        }
        long changed = s.undo().changedSince();
        if (changed >= s.undo().rows()) {
            return "changed by others since Sluice wrote them: "
                    + NextStep.force(job).command() + " restores them";
        }
        String restores = rollback(job).command()
                + (s.work() == JobStatus.Work.ROLLBACK ? " restores the rest" : " restores them");
        return changed == 0
                ? restores
                : String.format(
                        Locale.ROOT,
                        "%s; the %,d changed by others since need %s",
                        restores,
                        changed,
                        NextStep.force(job).command());
    }

    private static NextStep rollback(String job) {
        return NextStep.continues(JobStatus.Work.ROLLBACK, job);
    }

    /** Specs under the config directory that never ran are jobs too: NOT_STARTED. */
    private void addNeverStarted(List<JobStatus> jobs) throws IOException {
        Set<String> known = new HashSet<>();
        jobs.forEach(j -> known.add(j.job()));
        for (JobSpec spec : SpecFiles.under(
                db.config().resolve("jobs"),
                (file, e) -> System.err.println("sluice: skipping " + file + ": " + e.getMessage()))) {
            if (known.add(spec.name())) {
                jobs.add(JobStatus.notStarted(spec.name(), spec.table()));
            }
        }
    }
}
