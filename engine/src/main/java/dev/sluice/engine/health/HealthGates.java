package dev.sluice.engine.health;

import dev.sluice.engine.spec.Connector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

import javax.sql.DataSource;

import dev.sluice.engine.spec.JobSpec;

/**
 * Decides, before each chunk, whether chunks may start. Each reading feeds a gate of its own:
 * <ul>
 *   <li>a gate closes when its value goes over the limit, and opens again only below half the limit
 *       (hysteresis), so that a lag hovering at the limit does not flap the job on and off;</li>
 *   <li>a signal that cannot be read keeps its gates as they were for a while (a restarting standby, a
 *       network blip), and closes once it has been unreadable for longer than the limit: fail closed.</li>
 * </ul>
 * Signals are read at most once per poll interval, whatever the chunk rate.
 */
public final class HealthGates implements AutoCloseable {

    // Long enough to ride out a standby restart or a dropped connection; short enough that a backfill never
    // writes blind for long. Three polls, and never under ten seconds.
    static final Duration MIN_UNREADABLE_LIMIT = Duration.ofSeconds(10);
    static final int UNREADABLE_POLLS = 3;

    private final List<Signal> signals;
    private final long pollNanos;
    private final long unreadableNanos;
    private final LongSupplier clock;
    private final Set<String> closed = new HashSet<>();
    private final Map<String, Long> lastRead = new HashMap<>();
    private final Map<String, List<Reading>> lastReadings = new HashMap<>();
    private List<Reading> readings = List.of();
    private long polledAt;
    private boolean polled;
    private String reason;
    private volatile java.util.function.Consumer<List<Reading>> listener = r -> { };

    public HealthGates(List<Signal> signals, Duration poll) {
        this(signals, poll, System::nanoTime);
    }

    HealthGates(List<Signal> signals, Duration poll, LongSupplier clock) {
        this.signals = List.copyOf(signals);
        this.pollNanos = poll.toNanos();
        Duration limit = poll.multipliedBy(UNREADABLE_POLLS);
        this.unreadableNanos = (limit.compareTo(MIN_UNREADABLE_LIMIT) > 0 ? limit : MIN_UNREADABLE_LIMIT).toNanos();
        this.clock = clock;
    }

    /**
     * The gates a job's {@code health} section asks for: physical replicas seen from the primary, each standby
     * URL asked directly, logical replication slots, a vacuum of the written table, active sessions, and the
     * operator's query.
     *
     * @param written the table the job writes (schema-qualified and quoted), whose vacuums hold it
     */
    public static HealthGates forSpec(JobSpec.Health health, DataSource primary, Connector connector, String written) {
        List<Signal> signals = new ArrayList<>();
        double maxLag = health.replicaLag().max().toMillis() / 1000.0;
        long maxBytes = health.replicaLag().maxBytes() == null ? 0 : health.replicaLag().maxBytes().bytes();
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
            signals.add(new ActiveSessionsSignal(primary, health.activeSessions().max()));
        }
        if (health.query() != null) {
            signals.add(new QuerySignal(primary, health.query().sql(), health.query().max()));
        }
        return new HealthGates(signals, health.poll());
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
            poll(now);
            polledAt = now;
            polled = true;
        }
        return reason;
    }

    /** Told of every poll's readings (metrics). */
    public void onReadings(java.util.function.Consumer<List<Reading>> l) {
        this.listener = l;
    }

    private void poll(long now) {
        List<Reading> all = new ArrayList<>();
        List<String> reasons = new ArrayList<>();
        for (Signal signal : signals) {
            try {
                List<Reading> read = signal.read();
                lastRead.put(signal.name(), now);
                lastReadings.put(signal.name(), read);
                all.addAll(read);
                for (Reading r : read) {
                    boolean wasClosed = closed.contains(r.gate());
                    // Reopens below half the limit; a limit of 0 (no vacuum at all, say) reopens at 0.
                    boolean isClosed = wasClosed && r.limit() > 0 ? r.value() >= r.limit() / 2 : r.value() > r.limit();
                    if (isClosed) {
                        closed.add(r.gate());
                        reasons.add(r.describe() + (r.value() <= r.limit() ? " (waiting for < half the limit)" : ""));
                    } else {
                        closed.remove(r.gate());
                    }
                }
            } catch (Exception e) {
                String why = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
                long since = lastRead.computeIfAbsent(signal.name(), k -> now);
                boolean firstRead = !polled;
                if (firstRead || now - since > unreadableNanos) {
                    reasons.add("cannot read " + signal.name() + ": " + why);
                } else {
                    // Not yet over the limit: keep this signal's gates as they were.
                    for (Reading r : lastReadings.getOrDefault(signal.name(), List.of())) {
                        if (closed.contains(r.gate())) {
                            reasons.add(r.describe() + " (last reading; " + signal.name() + " unreadable: " + why + ")");
                            all.add(r);
                        }
                    }
                }
            }
        }
        readings = List.copyOf(all);
        reason = reasons.isEmpty() ? null : String.join("; ", reasons);
        listener.accept(readings);
    }
}
