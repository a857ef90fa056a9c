package dev.sluice.jobs.serve;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.sluice.boot.JobScheduler;
import dev.sluice.engine.Backfill;
import dev.sluice.engine.control.ControlMailbox;
import dev.sluice.engine.control.JobStatus;
import dev.sluice.engine.control.StatusJson;
import dev.sluice.engine.spec.JobSpec;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code serve}'s HTTP API: job states for the status page (read-only, no token), one job's detail, and operators'
 * pause, resume, cancel and tune (POST, with {@code Authorization: Bearer <token>}).
 */
@RestController
public class StatusController {

    private final Backfill backfill;
    private final JobScheduler scheduler;
    private final JobHistory history;
    private final MeterRegistry meters;
    private final String token;

    public StatusController(Backfill backfill, JobScheduler scheduler, JobHistory history, MeterRegistry meters,
                            ServeSettings settings) {
        this.backfill = backfill;
        this.scheduler = scheduler;
        this.history = history;
        this.meters = meters;
        this.token = settings.token();
    }

    @GetMapping("/api/jobs")
    public List<Map<String, Object>> jobs() throws Exception {
        List<Map<String, Object>> out = new ArrayList<>();
        List<JobStatus> statuses = new ArrayList<>(backfill.status(null));
        for (JobSpec spec : scheduler.specs()) {
            if (statuses.stream().noneMatch(s -> s.job().equals(spec.name()))) {
                statuses.add(JobStatus.notStarted(spec.name(), spec.table()));
            }
        }
        for (JobStatus s : statuses) {
            Map<String, Object> m = StatusJson.of(s);
            JobSpec spec = scheduler.spec(s.job());
            if (spec != null && spec.schedule() != null) {
                m.put("schedule", spec.schedule().cron());
                m.put("window", spec.schedule().window());
            }
            m.put("history", history.of(s.job()));
            out.add(m);
        }
        return out;
    }

    /** One job, with what its detail view draws: the chunk target beside the sampled chunk durations. */
    @GetMapping("/api/jobs/{job}")
    public ResponseEntity<Map<String, Object>> job(@PathVariable String job) throws Exception {
        for (Map<String, Object> m : jobs()) {
            if (job.equals(m.get("job"))) {
                m.put("chunkTargetSeconds", chunkTarget(job));
                return ResponseEntity.ok(m);
            }
        }
        return reply(HttpStatus.NOT_FOUND, "no job " + job);
    }

    /** Whether a bearer token is the operator's: the page asks before it offers controls. */
    @GetMapping("/api/token")
    public ResponseEntity<Map<String, Object>> token(@RequestHeader(value = "Authorization", required = false) String authorization) {
        ResponseEntity<Map<String, Object>> refused = refused(authorization);
        return refused != null ? refused : reply(HttpStatus.OK, "token accepted");
    }

    @PostMapping("/api/jobs/{job}/{action}")
    public ResponseEntity<Map<String, Object>> control(@PathVariable String job, @PathVariable String action,
            @RequestParam(value = "rowsPerSecond", required = false) Long rowsPerSecond,
            @RequestHeader(value = "Authorization", required = false) String authorization) throws Exception {
        ResponseEntity<Map<String, Object>> refused = refused(authorization);
        if (refused != null) {
            return refused;
        }
        switch (action) {
            case "pause", "cancel" -> {
                return mailbox(job, new ControlMailbox.Request(ControlMailbox.Command.valueOf(action.toUpperCase()), null, null));
            }
            case "tune" -> {
                if (rowsPerSecond == null || rowsPerSecond < 0) {
                    return reply(HttpStatus.BAD_REQUEST, "rowsPerSecond: a whole number, 0 or more (0 = unlimited)");
                }
                return mailbox(job, new ControlMailbox.Request(ControlMailbox.Command.TUNE, rowsPerSecond, null));
            }
            case "resume" -> {
                JobSpec spec = scheduler.spec(job);
                if (spec == null) {
                    return reply(HttpStatus.NOT_FOUND, "no job " + job + " in this instance's config");
                }
                scheduler.resume(spec);
                return reply(HttpStatus.ACCEPTED, "job " + job + " resuming");
            }
            default -> {
                return reply(HttpStatus.NOT_FOUND, "unknown action '" + action + "' (pause, resume, cancel, tune)");
            }
        }
    }

    /** Samples every job for the page's charts. */
    @Scheduled(fixedDelay = 2000)
    public void sample() throws Exception {
        long now = System.currentTimeMillis();
        for (JobStatus s : backfill.status(null)) {
            Timer chunks = meters.find("sluice.chunk.duration").tag("backfill", s.job()).timer();
            history.record(s.job(), now, new JobHistory.Sample(s.state().name(), s.rowsProcessed(), s.chunkRows(),
                    s.throttleReason(), chunks));
        }
    }

    private ResponseEntity<Map<String, Object>> mailbox(String job, ControlMailbox.Request request) throws Exception {
        Backfill.ControlResult r = backfill.control(job, request, Duration.ofSeconds(10), "http");
        return reply(r.ok() ? HttpStatus.OK : HttpStatus.CONFLICT, r.message());
    }

    /** Null when the bearer token is the operator's, else the refusal. */
    private ResponseEntity<Map<String, Object>> refused(String authorization) {
        if (token == null) {
            return reply(HttpStatus.FORBIDDEN, "control over HTTP is off: start serve with --token or SLUICE_TOKEN");
        }
        if (authorization == null || !MessageDigest.isEqual(authorization.getBytes(StandardCharsets.UTF_8),
                ("Bearer " + token).getBytes(StandardCharsets.UTF_8))) {
            return reply(HttpStatus.UNAUTHORIZED, "missing or wrong bearer token");
        }
        return null;
    }

    /** The chunk target: as tuned in this instance's run if it runs the job, else the spec's. */
    private Double chunkTarget(String job) {
        io.micrometer.core.instrument.Gauge g = meters.find("sluice.chunk.target").tag("backfill", job).gauge();
        if (g != null && !Double.isNaN(g.value())) {
            return g.value();
        }
        JobSpec spec = scheduler.spec(job);
        return spec == null ? null : spec.chunk().target().toMillis() / 1000.0;
    }

    private static ResponseEntity<Map<String, Object>> reply(HttpStatus status, String message) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("message", message);
        return ResponseEntity.status(status).body(body);
    }
}
