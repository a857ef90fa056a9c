package dev.sluice.engine.health;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

import javax.sql.DataSource;

import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spi.Connector;

/**
 * Decides, before each chunk, whether chunks may start. Each reading feeds a gate of its own:
 * <ul>
 *   <li>a gate closes when its value goes over the limit, and opens again only below half the limit
 *       (hysteresis), so that a lag hovering at the limit does not flap the job on and off;</li>
 *   <li>a signal that cannot be read closes the gates at once, until it reads again: fail closed. A signal that
 *       cannot be read may be the one saying stop (a standby that fell behind and restarts, a queue that overflowed),
 *       and the next chunk would be written blind. Its gates keep their state meanwhile, so the hysteresis carries
 *       over the gap.</li>
 * </ul>
 * Signals are read at most once per poll interval, whatever the chunk rate.
 */
public final class HealthGates implements AutoCloseable {

    private final List<Signal> signals;
    private final long pollNanos;
    private final LongSupplier clock;
    private final Set<String> closed = new HashSet<>();
    private List<Reading> readings = List.of();
    private long polledAt;
    private boolean polled;
    private String reason;
    private boolean unreadable;
    private volatile Consumer<List<Reading>> listener = r -> {};

    public HealthGates(List<Signal> signals, Duration poll) {
        this(signals, poll, System::nanoTime);
    }

    HealthGates(List<Signal> signals, Duration poll, LongSupplier clock) {
        this.signals = List.copyOf(signals);
        this.pollNanos = poll.toNanos();
        this.clock = clock;
    }

    /**
     * The gates a job's {@code health} section asks for: physical replicas seen from the primary, each standby
     * URL asked directly, logical replication slots, a vacuum of the written table, active sessions, the operator's
     * query, a Prometheus query and an HTTP throttle endpoint.
     *
     * @param written the table the job writes (schema-qualified and quoted), whose vacuums hold it
     */
    public static HealthGates forSpec(JobSpec.Health health, DataSource primary, Connector connector, String written) {
        List<Signal> signals = new ArrayList<>();
        double maxLag = health.replicaLag().max().toMillis() / 1000.0;
        long maxBytes = health.replicaLag().maxBytes() == null
                ? 0
                : health.replicaLag().maxBytes().bytes();
        signals.add(new PrimaryReplicationSignal(primary, maxLag, maxBytes));
        for (String url : health.replicas()) {
            String shown = url.replaceFirst("^jdbc:postgresql://", "").replaceFirst("\\?.*$", "");
            signals.add(new StandbySignal(shown, url, connector, maxLag));
        }
        signals.add(new SlotLagSignal(primary, health.slotLag().maxBytes().bytes()));
        if (health.autovacuum()) {
            signals.add(new VacuumSignal(primary, written));
        }
        if (health.activeSessions().max() > 0) {
            signals.add(
                    new ActiveSessionsSignal(primary, health.activeSessions().max()));
        }
        if (health.query() != null) {
            signals.add(new QuerySignal(
                    primary, health.query().sql(), health.query().max()));
        }
        signals.addAll(services(health));
        return new HealthGates(signals, health.poll());
    }

    /**
     * One client for every job's HTTP signals (a client holds a thread and a connection pool: one per preflight and
     * per attempt would make them anew each time), made on first use: building the first client of a process sets up
     * TLS (0.17 s on a 2-core machine), which a job without an HTTP signal, nearly every one, should not pay.
     */
    private static final class Http {
        static final HttpClient CLIENT = HttpClient.newBuilder()
                .connectTimeout(PrometheusSignal.TIMEOUT)
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
    }

    /** The shared client; one that cannot be made (no TLS set-up, no file descriptors) is said as an exception. */
    private static HttpClient httpClient() {
        try {
            return Http.CLIENT;
        } catch (LinkageError e) {
            Throwable cause = e;
            while (cause instanceof LinkageError && cause.getCause() != null) { // see Notifier.rootOf
                cause = cause.getCause();
            }
            throw new IllegalStateException("cannot make an HTTP client for the health signals: " + cause, e);
        }
    }

    /** The signals {@code health} reads from services over HTTP: Prometheus, a throttle endpoint. */
    public static List<Signal> services(JobSpec.Health health) {
        if (health.prometheus() == null && health.http() == null) {
            return List.of();
        }
        HttpClient client = httpClient();
        List<Signal> signals = new ArrayList<>();
        if (health.prometheus() != null) {
            signals.add(new PrometheusSignal(
                    client,
                    health.prometheus().url(),
                    health.prometheus().query(),
                    health.prometheus().max()));
        }
        if (health.http() != null) {
            signals.add(new HttpSignal(client, health.http().url()));
        }
        return signals;
    }

    @Override
    public void close() {
        signals.forEach(Signal::close);
    }

    public Duration poll() {
        return Duration.ofNanos(pollNanos);
    }

    /** Why no chunk may start now, or null if all gates are open. Polls the signals when due. */
    public synchronized String closedReason() {
        if (signals.isEmpty()) {
            return null;
        }
        long now = clock.getAsLong();
        if (!polled || now - polledAt >= pollNanos) {
            readSignals();
            polledAt = now;
            polled = true;
        }
        return reason;
    }

    /** Whether the gates are closed (also) because a signal could not be read at the last poll. */
    public synchronized boolean unreadable() {
        return unreadable;
    }

    /** Told of every poll's readings (metrics). */
    public void onReadings(Consumer<List<Reading>> l) {
        this.listener = l;
    }

    private void readSignals() {
        List<Reading> all = new ArrayList<>();
        List<String> reasons = new ArrayList<>();
        boolean failed = false;
        for (Signal signal : signals) {
            List<Reading> read;
            try {
                read = signal.read();
            } catch (Exception e) {
                // Fail closed at once; this signal's gates stay as they were for when it reads again.
                String why = e.getMessage() == null
                        ? e.toString()
                        : e.getMessage().lines().findFirst().orElse("");
                reasons.add("cannot read " + signal.name() + ": " + why);
                failed = true;
                continue;
            }
            all.addAll(read);
            for (Reading r : read) {
                boolean wasClosed = closed.contains(r.gate());
                // Reopens below half the limit; a limit of 0 (no vacuum at all, say) reopens at 0.
                boolean isClosed = (wasClosed && r.limit() > 0) ? r.value() >= r.limit() / 2 : r.value() > r.limit();
                if (isClosed) {
                    closed.add(r.gate());
                    reasons.add(r.describe() + (r.value() <= r.limit() ? " (waiting for < half the limit)" : ""));
                } else {
                    closed.remove(r.gate());
                }
            }
        }
        readings = List.copyOf(all);
        reason = reasons.isEmpty() ? null : String.join("; ", reasons);
        unreadable = failed;
        listener.accept(readings);
    }
}
