package dev.sluice.jobs.serve;

import dev.sluice.boot.JobScheduler;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.control.ControlMailbox;
import dev.sluice.engine.control.JobStatus;
import dev.sluice.engine.spec.JobSpec;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code serve}'s HTTP API: job states for the status page (read-only, no token), and operators' pause, resume
 * and cancel (POST, with {@code Authorization: Bearer <token>}).
 */
@RestController
public class StatusController {

    private final Backfill backfill;
    private final JobScheduler scheduler;
    private final RateHistory history;
    private final String token;

    public StatusController(Backfill backfill, JobScheduler scheduler, RateHistory history, ServeSettings settings) {
        this.backfill = backfill;
        this.scheduler = scheduler;
        this.history = history;
        this.token = settings.token();
    }

    @GetMapping("/api/jobs")
    public List<Map<String, Object>> jobs() throws Exception {
        List<Map<String, Object>> out = new ArrayList<>();
        Map<String, JobSpec> specs = new LinkedHashMap<>();
        scheduler.specs().forEach(s -> specs.put(s.name(), s));
        List<JobStatus> statuses = new ArrayList<>(backfill.status(null));
        for (String name : specs.keySet()) {
            if (statuses.stream().noneMatch(s -> s.job().equals(name))) {
                statuses.add(JobStatus.notStarted(name, specs.get(name).table()));
            }
        }
        for (JobStatus s : statuses) {
            Map<String, Object> m = dev.sluice.engine.control.StatusJson.of(s);
            JobSpec spec = specs.get(s.job());
            if (spec != null && spec.schedule() != null) {
                m.put("schedule", spec.schedule().cron());
                m.put("window", spec.schedule().window());
            }
            m.put("history", history.of(s.job()));
            out.add(m);
        }
        return out;
    }

    @PostMapping("/api/jobs/{job}/{action}")
    public ResponseEntity<Map<String, Object>> control(@PathVariable String job, @PathVariable String action,
            @RequestHeader(value = "Authorization", required = false) String authorization) throws Exception {
        if (token == null) {
            return reply(HttpStatus.FORBIDDEN, "control over HTTP is off: start serve with --token or SLUICE_TOKEN");
        }
        if (authorization == null || !java.security.MessageDigest.isEqual(authorization.getBytes(),
                ("Bearer " + token).getBytes())) {
            return reply(HttpStatus.UNAUTHORIZED, "missing or wrong bearer token");
        }
        switch (action) {
            case "pause", "cancel" -> {
                Backfill.ControlResult r = backfill.control(job, new ControlMailbox.Request(
                        ControlMailbox.Command.valueOf(action.toUpperCase()), null, null), Duration.ofSeconds(10), "http");
                return reply(r.ok() ? HttpStatus.OK : HttpStatus.CONFLICT, r.message());
            }
            case "resume" -> {
                JobSpec spec = scheduler.specs().stream().filter(s -> s.name().equals(job)).findFirst().orElse(null);
                if (spec == null) {
                    return reply(HttpStatus.NOT_FOUND, "no job " + job + " in this instance's config");
                }
                scheduler.resume(spec);
                return reply(HttpStatus.ACCEPTED, "job " + job + " resuming");
            }
            default -> {
                return reply(HttpStatus.NOT_FOUND, "unknown action '" + action + "' (pause, resume, cancel)");
            }
        }
    }

    /** Samples every job's row count for the rate chart. */
    @Scheduled(fixedDelay = 2000)
    public void sample() throws Exception {
        long now = System.currentTimeMillis();
        for (JobStatus s : backfill.status(null)) {
            history.record(s.job(), s.rowsProcessed(), now);
        }
    }

    private static ResponseEntity<Map<String, Object>> reply(HttpStatus status, String message) {
        return ResponseEntity.status(status).body(Map.of("message", message));
    }
}
