package dev.sluice.jobs.cli;

import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import dev.sluice.engine.FleetResult;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.StatusJson;
import dev.sluice.engine.spec.FleetSpec;
import dev.sluice.engine.spec.SpecException;

import tools.jackson.databind.json.JsonMapper;

/** {@code status JOB --fleet NAME}: the rollout, one line per target (its place in it, its job there), and totals. */
final class FleetStatus {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private FleetStatus() {}

    static int print(FleetOptions fleet, DatabaseOptions db, String job, boolean json) throws Exception {
        if (job == null) {
            throw new SpecException("JOB", "give the job whose rollout on the fleet to show");
        }
        String name = FleetOptions.jobName(job, db);
        FleetSpec spec = fleet.spec(db);
        try (FleetOptions.Opened opened = new FleetOptions.Opened(spec, db, "sluice status")) {
            FleetResult rollout = opened.fleet.status(name);
            long rows = 0;
            long estimated = 0;
            double rate = 0;
            int done = 0;
            if (!json) {
                System.out.println("fleet " + spec.name() + ", job " + name + ": rollout " + rollout.state()
                        + (rollout.haltedBy() == null ? "" : ", halted at target " + rollout.haltedBy()));
                System.out.printf(
                        "%-20s %-4s %-12s %-12s %-26s %12s  %s%n",
                        "TARGET", "WAVE", "ROLLOUT", "STATE", "PROGRESS", "ROWS/S", "LAST ERROR");
            }
            for (FleetResult.Target t : rollout.targets()) {
                JobStatus s;
                String unreachable = null;
                try {
                    s = opened.backfills.get(t.name()).status(name);
                } catch (SQLException e) {
                    s = null;
                    unreachable = "cannot read: " + e.getMessage();
                }
                if (s != null) {
                    rows += s.rowsProcessed();
                    estimated += s.rowsEstimated();
                    rate += s.rowsPerSecond();
                    if (s.state() == JobStatus.State.COMPLETED || s.state() == JobStatus.State.FINISHED) {
                        done++;
                    }
                }
                if (json) {
                    Map<String, Object> line = new LinkedHashMap<>();
                    line.put("fleet", spec.name());
                    line.put("target", t.name());
                    line.put("wave", t.wave());
                    line.put("rollout", t.state());
                    line.put("rolloutOutcome", t.outcome());
                    if (s != null) {
                        line.putAll(StatusJson.of(s));
                    } else {
                        line.put("job", name);
                        line.put("lastError", unreachable);
                    }
                    System.out.println(JSON.writeValueAsString(line));
                } else {
                    String error = s == null ? unreachable : s.lastError();
                    System.out.printf(
                            Locale.ROOT,
                            "%-20s %-4d %-12s %-12s %-26s %,12.0f  %s%n",
                            t.name(),
                            t.wave(),
                            t.state(),
                            s == null ? "?" : s.state(),
                            s == null
                                    ? "-"
                                    : String.format(
                                            Locale.ROOT,
                                            "%5.1f%% %,d/~%,d",
                                            s.progress() * 100,
                                            s.rowsProcessed(),
                                            s.rowsEstimated()),
                            s == null ? 0.0 : s.rowsPerSecond(),
                            error == null ? "-" : error);
                }
            }
            int targets = rollout.targets().size();
            if (json) {
                Map<String, Object> total = new LinkedHashMap<>();
                total.put("fleet", spec.name());
                total.put("job", name);
                total.put("rollout", rollout.state());
                total.put("haltedBy", rollout.haltedBy());
                total.put("targets", targets);
                total.put("done", done);
                total.put("rowsProcessed", rows);
                total.put("rowsEstimated", estimated);
                total.put("rowsPerSecond", rate);
                System.out.println(JSON.writeValueAsString(total));
            } else {
                System.out.printf(
                        Locale.ROOT,
                        "%-20s %d of %d targets done, %,d/~%,d rows, %,.0f rows/s%n",
                        "TOTAL",
                        done,
                        targets,
                        rows,
                        estimated,
                        rate);
            }
            return ExitCode.DONE;
        }
    }
}
