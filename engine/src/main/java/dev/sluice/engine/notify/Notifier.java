package dev.sluice.engine.notify;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import dev.sluice.engine.StopSignal;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.Secrets;
import dev.sluice.engine.throttle.Pacer;

import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import tools.jackson.databind.json.JsonMapper;

/**
 * A job's {@code notify}: each event a target asks for is posted as JSON (with a Slack-compatible {@code text}) by
 * the HTTP client's own threads, retried with exponential backoff (Resilience4j's asynchronous retry: no thread
 * sleeps through a backoff, so a receiver that is down delays no other) on no answer, 429 and 5xx, and given up with
 * a warning in the log. Nothing here blocks or fails the job: a notification that cannot be sent is a line in the
 * log, which never quotes a URL or a header's value that came from the environment.
 */
public final class Notifier {

    private static final Logger LOG = LoggerFactory.getLogger(Notifier.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final int ATTEMPTS = 5;
    private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);

    private static final ScheduledExecutorService TIMERS = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sluice-notify");
        t.setDaemon(true);
        return t;
    });
    private static final RetryConfig RETRY = RetryConfig.<Integer>custom()
            .maxAttempts(ATTEMPTS)
            .intervalFunction(IntervalFunction.ofExponentialBackoff(FIRST_BACKOFF, 2))
            .retryOnException(e -> true) // no answer, a timeout, a reset: all worth another try
            .retryOnResult(status -> status == 429 || status >= 500)
            .failAfterMaxAttempts(true)
            .build();
    // Notifications whose first attempt has not ended: what a process about to exit waits for.
    private static final AtomicInteger FIRST_ATTEMPTS = new AtomicInteger();
    private static volatile String host;

    private Notifier() {}

    /**
     * The client, made on first use: building the first client of a process sets up TLS (0.17 s on a 2-core machine),
     * which a job that notifies no one, nearly every one, should not pay at its start and its end.
     */
    private static final class Http {
        static final HttpClient CLIENT = HttpClient.newBuilder()
                .connectTimeout(TIMEOUT)
                .executor(Executors.newCachedThreadPool(r -> {
                    Thread t = new Thread(r, "sluice-notify-http");
                    t.setDaemon(true);
                    return t;
                }))
                .build();
    }

    /**
     * Posts {@code event} of job {@code spec} to each of its targets that asks for it (none: nothing is done).
     *
     * @param text   the sentence people read ({@code job orders-backfill completed: ...})
     * @param fields more of the event, as data
     */
    public static void post(JobSpec spec, String event, String text, Map<String, Object> fields) {
        post(spec, event, text, fields, target -> true);
    }

    private static void post(
            JobSpec spec, String event, String text, Map<String, Object> fields, Predicate<JobSpec.Notify> which) {
        for (JobSpec.Notify target : spec.notifications()) {
            if (!target.wants(event) || !which.test(target)) {
                continue;
            }
            try {
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("text", "Sluice: " + Secrets.redact(text));
                body.put("job", spec.name());
                body.put("table", spec.table());
                body.put("event", event);
                body.put("at", Instant.now().toString());
                body.put("host", host());
                fields.forEach((k, v) -> body.put(k, v instanceof String s ? Secrets.redact(s) : v));
                send(spec.name(), event, target, JSON.writeValueAsString(body));
            } catch (RuntimeException e) {
                LOG.warn(
                        "job {}: the {} notification is not sent: {}",
                        spec.name(),
                        event,
                        e.getClass().getSimpleName());
            }
        }
    }

    /**
     * Waits up to {@code within} for every notification's first attempt to end (a process about to exit: its last
     * events, a completed run's, are not lost to the exit; the retries of a receiver that is down are not waited for).
     */
    public static void flush(Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        while (FIRST_ATTEMPTS.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void send(String job, String event, JobSpec.Notify target, String json) {
        String shown = target.webhook() != null ? hostOf(target.webhook()) : "$" + target.webhookEnv();
        HttpRequest request = request(job, event, target, json, shown);
        if (request == null) {
            return;
        }
        HttpClient client;
        try {
            client = Http.CLIENT;
        } catch (LinkageError e) { // a client that cannot be made (no TLS set-up, no file descriptors): not sent
            LOG.warn(
                    "job {}: the {} notification to {} is not sent: no HTTP client ({})",
                    job,
                    event,
                    shown,
                    rootOf(e).getClass().getSimpleName());
            return;
        }
        AtomicBoolean first = new AtomicBoolean(true);
        FIRST_ATTEMPTS.incrementAndGet();
        Runnable firstEnded = () -> {
            if (first.compareAndSet(true, false)) {
                FIRST_ATTEMPTS.decrementAndGet();
            }
        };
        try {
            Retry.of("notify", RETRY)
                    .executeCompletionStage(
                            TIMERS,
                            () -> client.sendAsync(request, HttpResponse.BodyHandlers.discarding())
                                    .thenApply(HttpResponse::statusCode)
                                    .whenComplete((status, error) -> firstEnded.run()))
                    .whenComplete((status, error) -> {
                        firstEnded.run();
                        if (error != null) {
                            Throwable cause = error.getCause() != null ? error.getCause() : error;
                            LOG.warn(
                                    "job {}: the {} notification to {} is not delivered after {} attempts: {}",
                                    job,
                                    event,
                                    shown,
                                    ATTEMPTS,
                                    cause instanceof IOException && cause.getMessage() != null
                                            ? Secrets.redact(cause.getMessage())
                                            : cause.getClass().getSimpleName());
                        } else if (status / 100 != 2) {
                            LOG.warn(
                                    "job {}: the {} notification to {} was refused: HTTP {}",
                                    job,
                                    event,
                                    shown,
                                    status);
                        }
                    });
        } catch (RuntimeException e) {
            firstEnded.run();
            LOG.warn(
                    "job {}: the {} notification to {} is not sent: {}",
                    job,
                    event,
                    shown,
                    e.getClass().getSimpleName());
        }
    }

    /**
     * What made the client fail: a class whose initialisation failed throws NoClassDefFoundError on every later use,
     * wrapping the ExceptionInInitializerError that holds the cause.
     */
    private static Throwable rootOf(Throwable e) {
        Throwable t = e;
        while (t instanceof LinkageError && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** The request, or null (said in the log) when the environment does not give what it needs. */
    private static HttpRequest request(String job, String event, JobSpec.Notify target, String json, String shown) {
        String url = target.url();
        if (url == null) {
            LOG.warn(
                    "job {}: the {} notification is not sent: the environment variable {} (notify's webhook-env) is not"
                            + " set",
                    job,
                    event,
                    target.webhookEnv());
            return null;
        }
        if (target.webhookEnv() != null) {
            Secrets.register(url); // a URL kept in the environment is a secret (Slack's are)
        }
        URI uri;
        try {
            uri = URI.create(url.strip());
        } catch (IllegalArgumentException e) {
            LOG.warn("job {}: the {} notification is not sent: {} is not a URL", job, event, shown);
            return null;
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
            LOG.warn("job {}: the {} notification is not sent: {} is not an http(s) URL", job, event, shown);
            return null;
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(uri)
                .timeout(TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        if (target.header() != null) {
            String value = System.getenv(target.header().env());
            if (value == null) {
                LOG.warn(
                        "job {}: the {} notification goes without its {} header: the environment variable {} is not"
                                + " set",
                        job,
                        event,
                        target.header().name(),
                        target.header().env());
            } else {
                value = value.strip(); // a value read from a file often ends with a line break
                Secrets.register(value);
                try {
                    request.header(target.header().name(), value);
                } catch (IllegalArgumentException e) {
                    LOG.warn(
                            "job {}: the {} notification is not sent: the value of {} is not a valid {} header",
                            job,
                            event,
                            target.header().env(),
                            target.header().name());
                    return null;
                }
            }
        }
        return request.build();
    }

    /**
     * Says {@code held} to each target that asks for it once the job has been held back (health gates, lock waiters)
     * longer than that target's {@code held-for}: a pacer observer, told when a hold starts and ends. A no-op when no
     * target asks for it; nothing is said for a hold during which the run was stopped.
     */
    public static Pacer.Observer holds(JobSpec spec, StopSignal stop) {
        SortedSet<Duration> thresholds = spec.notifications().stream()
                .filter(n -> n.wants("held"))
                .map(JobSpec.Notify::heldFor)
                .collect(Collectors.toCollection(TreeSet::new));
        if (thresholds.isEmpty()) {
            return Pacer.Observer.NONE;
        }
        return new Pacer.Observer() {
            private final Map<Duration, ScheduledFuture<?>> timers = new LinkedHashMap<>();

            @Override
            public synchronized void throttled(String reason) {
                if (!timers.isEmpty()) {
                    return; // still the same hold (its reason may change on the way)
                }
                for (Duration after : thresholds) {
                    timers.put(
                            after,
                            TIMERS.schedule(
                                    () -> {
                                        if (!stop.requested()) {
                                            post(
                                                    spec,
                                                    "held",
                                                    "job " + spec.name() + " has been held back for over "
                                                            + after.toSeconds() + " s: " + reason,
                                                    Map.<String, Object>of(
                                                            "reason", reason, "heldForSeconds", after.toSeconds()),
                                                    n -> n.heldFor().equals(after));
                                        }
                                    },
                                    after.toMillis(),
                                    TimeUnit.MILLISECONDS));
                }
            }

            @Override
            public synchronized void unthrottled(long waitedNanos) {
                timers.values().forEach(t -> t.cancel(false));
                timers.clear();
            }
        };
    }

    private static String hostOf(String url) {
        try {
            return URI.create(url).getHost();
        } catch (IllegalArgumentException e) {
            return "the webhook";
        }
    }

    /** This machine's name, looked up once (off the job's path after the first). */
    private static String host() {
        String h = host;
        if (h == null) {
            try {
                h = InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                h = "";
            }
            host = h;
        }
        return h.isEmpty() ? null : h;
    }
}
