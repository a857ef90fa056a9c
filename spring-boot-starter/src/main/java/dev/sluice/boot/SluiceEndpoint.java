package dev.sluice.boot;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.control.ControlMailbox;
import dev.sluice.engine.control.JobStatus;
import dev.sluice.engine.control.StatusJson;
import dev.sluice.engine.spec.JobSpec;

import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.actuate.endpoint.web.annotation.WebEndpoint;

/**
 * {@code /actuator/sluice}: every job's status ({@code GET}), one job's ({@code GET /actuator/sluice/NAME}), and an
 * operator's {@code pause}, {@code resume} and {@code cancel} as write operations
 * ({@code POST /actuator/sluice/NAME/pause}). The write operations are Actuator's like any other: exposed only where
 * {@code management.endpoints.web.exposure.include} names {@code sluice}, turned off by
 * {@code management.endpoint.sluice.access=read-only}, and secured by the application's security for
 * {@code /actuator/**}. Pause and cancel reach the runner through the job's mailbox in the database, whichever
 * instance runs it; resume continues the job in this instance, its window permitting.
 */
@WebEndpoint(id = "sluice")
public class SluiceEndpoint {

    // How long a pause or cancel waits for the runner to acknowledge (it obeys within one chunk).
    static final Duration CONTROL_WAIT = Duration.ofSeconds(10);

    private final Backfill backfill;
    private final SluiceJobs jobs;
    private final JobScheduler scheduler;

    public SluiceEndpoint(Backfill backfill, SluiceJobs jobs, JobScheduler scheduler) {
        this.backfill = backfill;
        this.jobs = jobs;
        this.scheduler = scheduler;
    }

    /** Every job in the job repository, and those this application declares that have not started. */
    @ReadOperation
    public List<Map<String, Object>> jobs() throws Exception {
        List<JobStatus> statuses = new ArrayList<>(backfill.status(null));
        for (JobSpec spec : specs()) {
            if (statuses.stream().noneMatch(s -> s.job().equals(spec.name()))) {
                statuses.add(JobStatus.notStarted(spec.name(), spec.table()));
            }
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (JobStatus s : statuses) {
            out.add(withSchedule(StatusJson.of(s)));
        }
        return out;
    }

    @ReadOperation
    public WebEndpointResponse<Map<String, Object>> job(@Selector String name) throws Exception {
        for (Map<String, Object> job : jobs()) {
            if (name.equals(job.get("job"))) {
                return new WebEndpointResponse<>(job);
            }
        }
        return reply(WebEndpointResponse.STATUS_NOT_FOUND, "no job named " + name);
    }

    /** {@code pause}, {@code resume} or {@code cancel} a job. */
    @WriteOperation
    public WebEndpointResponse<Map<String, Object>> control(@Selector String name, @Selector String action) throws Exception {
        switch (action) {
            case "pause", "cancel" -> {
                Backfill.ControlResult r = backfill.control(name, new ControlMailbox.Request(
                        ControlMailbox.Command.valueOf(action.toUpperCase(java.util.Locale.ROOT)), null, null),
                        CONTROL_WAIT, "actuator");
                return reply(r.ok() ? WebEndpointResponse.STATUS_OK : 409, r.message());
            }
            case "resume" -> {
                JobSpec spec = specs().stream().filter(s -> s.name().equals(name)).findFirst().orElse(null);
                if (spec == null) {
                    return reply(WebEndpointResponse.STATUS_NOT_FOUND, "no job " + name + " in this application");
                }
                if (scheduler == null) {
                    return reply(409, "this instance runs no jobs (sluice.scheduling=false)");
                }
                scheduler.resume(spec);
                return reply(202, "job " + name + " resuming");
            }
            default -> {
                return reply(WebEndpointResponse.STATUS_NOT_FOUND, "unknown action '" + action + "' (pause, resume, cancel)");
            }
        }
    }

    private List<JobSpec> specs() {
        return scheduler != null ? scheduler.specs() : jobs.specs();
    }

    private Map<String, Object> withSchedule(Map<String, Object> status) {
        specs().stream().filter(s -> s.name().equals(status.get("job")) && s.schedule() != null).findFirst()
                .ifPresent(s -> {
                    status.put("schedule", s.schedule().cron());
                    status.put("window", s.schedule().window());
                });
        return status;
    }

    private static WebEndpointResponse<Map<String, Object>> reply(int status, String message) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("message", message);
        return new WebEndpointResponse<>(body, status);
    }
}
