package dev.sluice.jobs.serve;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.sluice.boot.JobOperations;
import dev.sluice.boot.JobScheduler;
import dev.sluice.engine.AuditEntry;
import dev.sluice.engine.Backfill;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.StatusJson;
import dev.sluice.engine.spec.JobSpec;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import org.springframework.http.ResponseEntity;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;

import jakarta.servlet.http.HttpServletRequest;

/**
 * {@code serve}'s HTTP API: job states for the status page (read-only, no token), one job's detail, and operators'
 * pause, resume, cancel and tune (POST, with {@code Authorization: Bearer <token>}).
 */
@RestController
public class StatusController {

    private final Backfill backfill;
    private final JobOperations operations;
    private final JobHistory history;
    private final MeterRegistry meters;
    private final String token;
    private final String principal;

    public StatusController(
            Backfill backfill,
            JobScheduler scheduler,
            JobHistory history,
            MeterRegistry meters,
            ServeSettings settings) {
        this.backfill = backfill;
        this.operations = new JobOperations(backfill, scheduler, scheduler.specs(), "api");
        this.history = history;
        this.meters = meters;
        this.token = settings.token();
        this.principal = tokenPrincipal(token);
    }

    @GetMapping("/api/jobs")
    public List<Map<String, Object>> jobs() throws Exception {
        List<Map<String, Object>> out = operations.list();
        out.forEach(m -> m.put("history", history.of((String) m.get("job"))));
        return out;
    }

    /** One job, with what its detail view draws: the chunk target beside the sampled chunk durations. */
    @GetMapping("/api/jobs/{job}")
    public ResponseEntity<Map<String, Object>> job(@PathVariable String job) throws Exception {
        Map<String, Object> m = operations.one(job);
        if (m == null) {
            return reply(JobOperations.unknown(job));
        }
        m.put("history", history.of(job));
        m.put("chunkTargetSeconds", chunkTarget(job));
        return ResponseEntity.ok(m);
    }

    /**
     * Job {@code job}'s audit trail, its last {@code limit} commands (default 100), oldest first: who changed it, when,
     * from where, and how it ended. It names people, hosts and addresses: with the operator's token only.
     */
    @GetMapping("/api/jobs/{job}/audit")
    public ResponseEntity<Object> audit(
            @PathVariable String job,
            @RequestParam(value = "limit", defaultValue = "100") int limit,
            @RequestHeader(value = "Authorization", required = false) String authorization)
            throws Exception {
        JobOperations.Reply refused = refused(authorization);
        if (refused == null && limit < 1) {
            refused = new JobOperations.Reply(400, "limit: a whole number, 1 or more, got " + limit);
        }
        List<AuditEntry> trail = refused == null ? backfill.history(job) : List.of();
        if (refused == null && trail.isEmpty() && operations.one(job) == null) {
            refused = JobOperations.unknown(job);
        }
        if (refused != null) {
            return ResponseEntity.status(refused.status()).body(reply(refused).getBody());
        }
        return ResponseEntity.ok(StatusJson.audit(trail.subList(Math.max(0, trail.size() - limit), trail.size())));
    }

    /** Whether a bearer token is the operator's: the page asks before it offers controls. */
    @GetMapping("/api/token")
    public ResponseEntity<Map<String, Object>> token(
            @RequestHeader(value = "Authorization", required = false) String authorization) {
        JobOperations.Reply refused = refused(authorization);
        return reply(refused != null ? refused : new JobOperations.Reply(200, "token accepted"));
    }

    /** {@code pause}, {@code resume}, {@code cancel}, {@code tune?rowsPerSecond=N}: with the operator's token only. */
    @PostMapping("/api/jobs/{job}/{action}")
    public ResponseEntity<Map<String, Object>> control(
            @PathVariable String job,
            @PathVariable String action,
            @RequestParam(value = "rowsPerSecond", required = false) Long rowsPerSecond,
            @RequestHeader(value = "Authorization", required = false) String authorization,
            @RequestHeader(value = CLIENT_HEADER, required = false) String client,
            HttpServletRequest request)
            throws Exception {
        JobOperations.Reply refused = refused(authorization);
        if (refused != null) {
            return reply(refused);
        }
        // The page says it is the page; anything else is a client of the API. The token is the principal, named by a
        // digest of it (never the token): a rotated token shows as another principal.
        String via = "page".equals(client) ? "page" : "api";
        return reply(operations.control(
                job, action, rowsPerSecond, operations.actor(via, principal, request.getRemoteAddr())));
    }

    /** The header the operator page sends with its requests, so that the audit trail tells the page from the API. */
    static final String CLIENT_HEADER = "X-Sluice-Client";

    /** The token as a principal: {@code token:} and a digest of it, never the token (null while control is off). */
    private static String tokenPrincipal(String token) {
        if (token == null) {
            return null;
        }
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
            return "token:" + java.util.HexFormat.of().formatHex(hash, 0, 4);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JRE", e);
        }
    }

    /**
     * A query parameter that is not what its operation takes ({@code tune?rowsPerSecond=abc}, a rate beyond a long):
     * 400 with a message naming the parameter, as every other refusal of this API has.
     */
    @ExceptionHandler(MethodArgumentTypeMismatchException.class)
    public ResponseEntity<Map<String, Object>> badParameter(MethodArgumentTypeMismatchException e) {
        String takes = "rowsPerSecond".equals(e.getName()) ? JobOperations.RATE : e.getName() + ": not a valid value";
        return reply(new JobOperations.Reply(400, takes + ", got '" + e.getValue() + "'"));
    }

    /** Samples every job for the page's charts. */
    @Scheduled(fixedDelay = 2000)
    public void sample() throws Exception {
        long now = System.currentTimeMillis();
        for (JobStatus s : backfill.statuses()) {
            Timer chunks = meters.find("sluice.chunk.duration")
                    .tag("backfill", s.job())
                    .timer();
            // The rows of the work that runs: a validation's are the rows it checked.
            long rows = s.work() == JobStatus.Work.VALIDATION && s.validation() != null
                    ? s.validation().rowsChecked()
                    : s.rowsProcessed();
            history.record(
                    s.job(),
                    now,
                    new JobHistory.Sample(s.state().name(), rows, s.chunkRows(), s.throttleReason(), chunks));
        }
    }

    /** Null when the bearer token is the operator's, else the refusal. */
    private JobOperations.Reply refused(String authorization) {
        if (token == null) {
            return new JobOperations.Reply(403, "control over HTTP is off: start serve with --token or SLUICE_TOKEN");
        }
        if (authorization == null
                || !MessageDigest.isEqual(
                        authorization.getBytes(StandardCharsets.UTF_8),
                        ("Bearer " + token).getBytes(StandardCharsets.UTF_8))) {
            return new JobOperations.Reply(401, "missing or wrong bearer token");
        }
        return null;
    }

    /** The chunk target: as tuned in this instance's run if it runs the job, else the spec's. */
    private Double chunkTarget(String job) {
        Gauge g = meters.find("sluice.chunk.target").tag("backfill", job).gauge();
        if (g != null && !Double.isNaN(g.value())) {
            return g.value();
        }
        JobSpec spec = operations.spec(job);
        return spec == null ? null : spec.chunk().target().toMillis() / 1000.0;
    }

    private static ResponseEntity<Map<String, Object>> reply(JobOperations.Reply r) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("message", r.said());
        if (r.next() != null) {
            body.put("next", StatusJson.next(r.next()));
        }
        return ResponseEntity.status(r.status()).body(body);
    }
}
