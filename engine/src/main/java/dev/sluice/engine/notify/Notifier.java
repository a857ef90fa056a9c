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
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

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
 * A job's {@code notify}: each event a target asks for is posted as JSON (with a Slack-compatible {@code text}) by a
 * thread of its own, retried with exponential backoff (Resilience4j) on no answer, 429 and 5xx, and given up with a
 * warning in the log. Nothing here ever blocks or fails the job: posting is queued (a full queue drops the oldest), and
 * an undeliverable notification is a line in the log.
 */
public final class Notifier {

    private static final Logger LOG = LoggerFactory.getLogger(Notifier.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final int QUEUE = 1000;
    private static final int ATTEMPTS = 5;
    private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);

    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    private static final ThreadPoolExecutor SENDER = new ThreadPoolExecutor(
            1,
            1,
            1,
            TimeUnit.MINUTES,
            new LinkedBlockingQueue<>(QUEUE),
            r -> {
                Thread t = new Thread(r, "sluice-notify");
                t.setDaemon(true);
                return t;
            },
            (r, pool) -> LOG.warn("notifications are queued faster than they are delivered: one dropped"));
    private static final ScheduledExecutorService TIMERS = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sluice-notify-held");
        t.setDaemon(true);
        return t;
    });
    // Notifications whose first attempt has not been made: what a process about to exit waits for.
    private static final AtomicInteger FIRST_ATTEMPTS = new AtomicInteger();

    private Notifier() {}

    /**
     * Posts {@code event} of job {@code spec} to each of its targets that asks for it (none: nothing is done).
     *
     * @param text   the sentence people read ({@code job orders-backfill completed: ...})
     * @param fields more of the event, as data
     */
    public static void post(JobSpec spec, String event, String text, Map<String, Object> fields) {
        for (JobSpec.Notify target : spec.notifications()) {
            if (!target.wants(event)) {
                continue;
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("text", "Sluice: " + Secrets.redact(text));
            body.put("job", spec.name());
            body.put("table", spec.table());
            body.put("event", event);
            body.put("at", Instant.now().toString());
            body.put("host", host());
            fields.forEach((k, v) -> body.put(k, v instanceof String s ? Secrets.redact(s) : v));
            String json = JSON.writeValueAsString(body);
            FIRST_ATTEMPTS.incrementAndGet();
            try {
                SENDER.execute(() -> deliver(spec.name(), event, target, json));
            } catch (RuntimeException e) {
                FIRST_ATTEMPTS.decrementAndGet();
                LOG.warn("job {}: the {} notification is not sent: {}", spec.name(), event, e.getMessage());
            }
        }
    }

    /**
     * Waits up to {@code within} for every queued notification's first attempt (a process about to exit: its last
     * events, a completed run's, are not lost to the exit; retries of a receiver that is down are not waited for).
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

    private static void deliver(String job, String event, JobSpec.Notify target, String json) {
        String url = target.url();
        if (url == null) {
            FIRST_ATTEMPTS.decrementAndGet();
            LOG.warn(
                    "job {}: the {} notification is not sent: the environment variable {} (notify's webhook-env) is"
                            + " not set",
                    job,
                    event,
                    target.webhookEnv());
            return;
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url))
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
                Secrets.register(value);
                request.header(target.header().name(), value);
            }
        }
        Retry retry = Retry.of(
                "notify",
                RetryConfig.<Integer>custom()
                        .maxAttempts(ATTEMPTS)
                        .intervalFunction(IntervalFunction.ofExponentialBackoff(FIRST_BACKOFF, 2))
                        .retryExceptions(IOException.class)
                        .retryOnResult(status -> status == 429 || status >= 500)
                        .failAfterMaxAttempts(true)
                        .build());
        boolean[] first = {true};
        String shown = target.webhook() != null ? hostOf(url) : "$" + target.webhookEnv();
        try {
            int status = Retry.decorateCheckedSupplier(retry, () -> {
                        try {
                            return HTTP.send(request.build(), HttpResponse.BodyHandlers.discarding())
                                    .statusCode();
                        } finally {
                            if (first[0]) {
                                first[0] = false;
                                FIRST_ATTEMPTS.decrementAndGet();
                            }
                        }
                    })
                    .get();
            if (status / 100 != 2) {
                LOG.warn("job {}: the {} notification to {} was refused: HTTP {}", job, event, shown, status);
            }
        } catch (Throwable e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            LOG.warn(
                    "job {}: the {} notification to {} is not delivered after {} attempts: {}",
                    job,
                    event,
                    shown,
                    ATTEMPTS,
                    e.getMessage() == null ? e.getClass().getSimpleName() : Secrets.redact(e.getMessage()));
        } finally {
            if (first[0]) {
                FIRST_ATTEMPTS.decrementAndGet();
            }
        }
    }

    /**
     * Says {@code held} when the job has been held back longer than a target's {@code held-for}: a pacer observer,
     * told when a hold starts and ends. None (a no-op) when no target asks for it.
     */
    public static Pacer.Observer holds(JobSpec spec, StopSignal stop) {
        Duration shortest = spec.notifications().stream()
                .filter(n -> n.wants("held"))
                .map(JobSpec.Notify::heldFor)
                .min(Duration::compareTo)
                .orElse(null);
        if (shortest == null) {
            return Pacer.Observer.NONE;
        }
        return new Pacer.Observer() {
            private ScheduledFuture<?> timer;

            @Override
            public synchronized void throttled(String reason) {
                if (timer == null) {
                    timer = TIMERS.schedule(
                            () -> {
                                if (!stop.requested()) { // a run that stopped while held is not held
                                    post(
                                            spec,
                                            "held",
                                            "job " + spec.name() + " has been held back for over "
                                                    + shortest.toSeconds() + " s: " + reason,
                                            Map.of("reason", reason));
                                }
                            },
                            shortest.toMillis(),
                            TimeUnit.MILLISECONDS);
                }
            }

            @Override
            public synchronized void unthrottled(long waitedNanos) {
                if (timer != null) {
                    timer.cancel(false);
                    timer = null;
                }
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

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return null;
        }
    }
}
