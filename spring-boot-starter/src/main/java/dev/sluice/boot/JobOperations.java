package dev.sluice.boot;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.sluice.engine.Actor;
import dev.sluice.engine.Backfill;
import dev.sluice.engine.ControlRequest;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.NextStep;
import dev.sluice.engine.StatusJson;
import dev.sluice.engine.spec.JobSpec;

/**
 * What an operator does over HTTP, whichever front serves it ({@code /actuator/sluice} in an application,
 * {@code serve}'s API): list jobs with their schedules, pause, cancel and tune them through their mailbox (whichever
 * process runs them), resume them in this process's scheduler.
 */
public final class JobOperations {

    // How long a pause, cancel or tune waits for the runner to acknowledge (it obeys within one chunk).
    static final Duration CONTROL_WAIT = Duration.ofSeconds(10);

    /** What {@code tune} takes, for the message when it is given something else. */
    public static final String RATE = "rowsPerSecond: a whole number, 0 or more (0 = unlimited)";

    /** An HTTP status and a message for the operator. */
    /**
     * A reply to a request over HTTP.
     *
     * @param next the way on from the state the job reached, or null
     */
    public record Reply(int status, String message, NextStep next) {
        public Reply(int status, String message) {
            this(status, message, null);
        }

        public boolean ok() {
            return status < 300;
        }

        /** The message and the way on, worded for someone who sends requests to this API. */
        public String said() {
            return said(message, next);
        }

        /** {@code message}, then the way on worded for someone who runs jobs in the application. */
        public static String said(String message, NextStep next) {
            return next == null ? message : message + " (" + said(next) + ")";
        }

        /** A step this API takes (resume), or the command line's for the others. */
        private static String said(NextStep next) {
            return switch (next.action()) {
                case RESUME -> "its resume action continues it";
                case START_OVER -> "it will not resume; on the command line, " + next.command() + " starts it over";
                default -> "on the command line, " + next.clause();
            };
        }
    }

    /** The reply for a job nobody knows: 404, whichever verb asked. */
    public static Reply unknown(String job) {
        return new Reply(404, "no job named " + job + " (not in the job repository, nor declared here)");
    }

    private final Backfill backfill;
    private final JobScheduler scheduler;
    private final List<JobSpec> specs;
    private final String by;

    /**
     * @param scheduler this process's scheduler, or null where it runs no jobs (resume is then refused)
     * @param specs     the jobs this process declares (listed before they start; the ones resume may start)
     * @param by        where requests come from, as the audit trail records them ({@code actuator}, {@code api})
     */
    public JobOperations(Backfill backfill, JobScheduler scheduler, List<JobSpec> specs, String by) {
        this.backfill = backfill;
        this.scheduler = scheduler;
        this.specs = List.copyOf(specs);
        this.by = by;
    }

    /** Every job in the job repository, and the declared ones that have not started, with their schedules. */
    public List<Map<String, Object>> list() throws Exception {
        List<JobStatus> statuses = new ArrayList<>(backfill.statuses());
        for (JobSpec spec : specs) {
            if (statuses.stream().noneMatch(s -> s.job().equals(spec.name()))) {
                statuses.add(JobStatus.notStarted(spec.name(), spec.table()));
            }
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (JobStatus s : statuses) {
            out.add(view(s));
        }
        return out;
    }

    /** One job as {@link #list()} shows it, or null: read alone, but for a job that never started. */
    public Map<String, Object> one(String job) throws Exception {
        JobStatus s = backfill.status(job);
        if (s.state() != JobStatus.State.NOT_STARTED) {
            return view(s);
        }
        return list().stream().filter(m -> job.equals(m.get("job"))).findFirst().orElse(null);
    }

    private Map<String, Object> view(JobStatus s) {
        Map<String, Object> m = StatusJson.of(s);
        JobSpec spec = spec(s.job());
        if (spec != null && spec.schedule() != null) {
            m.put("schedule", spec.schedule().cron());
            m.put("window", spec.schedule().window());
        }
        return m;
    }

    /** The declared job of that name, or null. */
    public JobSpec spec(String job) {
        return specs.stream().filter(s -> s.name().equals(job)).findFirst().orElse(null);
    }

    /**
     * {@code pause}, {@code resume}, {@code cancel}, or {@code tune} with {@code rowsPerSecond} (0 = unlimited).
     */
    public Reply control(String job, String action, Long rowsPerSecond) throws Exception {
        return control(job, action, rowsPerSecond, actor(by, null, null));
    }

    /**
     * Who asks over HTTP, as the audit trail records it: this process's user and host, the request's authenticated
     * {@code principal} (null: none) and the address it came from (null: not known).
     */
    public Actor actor(String via, String principal, String origin) {
        return backfill.actor().request(via == null ? by : via, principal, origin);
    }

    /** {@link #control(String, String, Long)} for {@code actor}, whom the audit trail records as asking. */
    public Reply control(String job, String action, Long rowsPerSecond, Actor actor) throws Exception {
        if (spec(job) == null && backfill.status(job).state() == JobStatus.State.NOT_STARTED) {
            return unknown(job); // as GET says: asking an unknown job to pause is not a conflict with its state
        }
        switch (action) {
            case "pause", "cancel" -> {
                return mailbox(
                        job,
                        new ControlRequest(ControlRequest.Command.valueOf(action.toUpperCase(Locale.ROOT)), null, null),
                        actor);
            }
            case "tune" -> {
                if (rowsPerSecond == null || rowsPerSecond < 0) {
                    return new Reply(400, RATE + (rowsPerSecond == null ? "" : ", got " + rowsPerSecond));
                }
                return mailbox(job, new ControlRequest(ControlRequest.Command.TUNE, rowsPerSecond, null), actor);
            }
            case "resume" -> {
                JobSpec spec = spec(job);
                if (spec == null) {
                    return new Reply(
                            404,
                            "job " + job + " is not declared here (resume it where it is: sluice resume " + job + ")");
                }
                if (scheduler == null) {
                    return new Reply(409, "this instance runs no jobs (sluice.scheduling=false)");
                }
                String refused = scheduler.resume(spec, actor);
                return refused == null
                        ? new Reply(202, "job " + job + " resuming")
                        : new Reply(409, "job " + job + " not resumed: " + refused);
            }
            default -> {
                return new Reply(404, "unknown action '" + action + "' (pause, resume, cancel, tune)");
            }
        }
    }

    private Reply mailbox(String job, ControlRequest request, Actor actor) throws Exception {
        Backfill.ControlResult r = backfill.as(actor).control(job, request, CONTROL_WAIT, actor.describe());
        return new Reply(r.ok() ? 200 : 409, r.message(), r.next());
    }
}
