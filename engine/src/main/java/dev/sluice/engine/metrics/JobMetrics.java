package dev.sluice.engine.metrics;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import dev.sluice.engine.ChunkObserver;
import dev.sluice.engine.ChunkReport;
import dev.sluice.engine.health.Reading;
import dev.sluice.engine.throttle.Pacer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * A job's meters, updated once per chunk (never per row) and on throttle and health events. Prometheus names:
 * {@code sluice_rows_total}, {@code sluice_chunks_total{outcome}}, {@code sluice_chunk_duration_seconds}
 * (histogram), {@code sluice_chunk_rows}, {@code sluice_progress_ratio}, {@code sluice_eta_seconds},
 * {@code sluice_throttle_seconds_total{reason}}, {@code sluice_replica_lag_seconds{replica}},
 * {@code sluice_replica_lag_bytes{replica}}; all tagged {@code backfill} (the job's name) but the replica gauges.
 * The tag is not {@code job}: Prometheus's own {@code job} target label would rename it {@code exported_job} on an
 * ordinary scrape. One instance per job and registry, registered once and reused by every run of the job.
 */
public final class JobMetrics implements ChunkObserver, Pacer.Observer {

    private final MeterRegistry registry;
    private final String job;
    private final Counter rows;
    private final Counter committed;
    private final Counter failed;
    private final Timer duration;
    private final AtomicLong chunkRows = new AtomicLong();
    private final AtomicLong progressPermille = new AtomicLong();
    private final AtomicLong etaSeconds = new AtomicLong(-1);
    private final Map<String, Counter> throttle = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> lagMillis = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> lagBytes = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> lagLimitMillis = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> signals = new ConcurrentHashMap<>();
    private final AtomicLong targetMillis = new AtomicLong();
    private long estimated;
    private long rowsAtStart;
    private long startedNanos;
    private final JobStateMetrics states;
    private final Counter wal;

    /** The tag that carries the job's name on every job meter. */
    public static final String TAG = "backfill";

    public JobMetrics(MeterRegistry registry, String job, JobStateMetrics states) {
        this.registry = registry;
        this.job = job;
        this.states = states;
        this.rows = Counter.builder("sluice.rows")
                .description("rows in committed key ranges")
                .tag(TAG, job)
                .register(registry);
        // sluice_wal_bytes_total: the WAL position's advance while each committed chunk ran.
        this.wal = Counter.builder("sluice.wal")
                .baseUnit("bytes")
                .description("WAL written while the job's chunks ran")
                .tag(TAG, job)
                .register(registry);
        this.committed = chunks("committed");
        this.failed = chunks("failed");
        this.duration = Timer.builder("sluice.chunk.duration")
                .description("chunk duration, finding to commit")
                .tag(TAG, job)
                .publishPercentileHistogram()
                .register(registry);
        Gauge.builder("sluice.chunk.rows", chunkRows, AtomicLong::get)
                .description("rows of the last chunk")
                .tag(TAG, job)
                .strongReference(true)
                .register(registry);
        Gauge.builder("sluice.progress.ratio", progressPermille, p -> p.get() / 1000.0)
                .description("rows done over the estimate")
                .tag(TAG, job)
                .strongReference(true)
                .register(registry);
        Gauge.builder("sluice.chunk.target", targetMillis, t -> t.get() / 1000.0)
                .baseUnit("seconds")
                .description("the duration chunks are sized toward")
                .tag(TAG, job)
                .strongReference(true)
                .register(registry);
        Gauge.builder("sluice.eta", etaSeconds, AtomicLong::get)
                .baseUnit("seconds")
                .description("estimated seconds to completion, -1 when unknown")
                .tag(TAG, job)
                .strongReference(true)
                .register(registry);
    }

    /** The run's chunk target, shown beside the chunk durations. */
    public void target(Duration chunkTarget) {
        targetMillis.set(chunkTarget.toMillis());
    }

    private Counter chunks(String outcome) {
        return Counter.builder("sluice.chunks")
                .description("chunks by outcome")
                .tag(TAG, job)
                .tag("outcome", outcome)
                .register(registry);
    }

    @Override
    public void started(Phase phase, long estimatedRows, long rowsDone) {
        states.state(job, dev.sluice.engine.JobStatus.State.RUNNING);
        etaSeconds.set(-1);
        this.estimated = estimatedRows;
        this.rowsAtStart = rowsDone;
        this.startedNanos = System.nanoTime();
    }

    @Override
    public void chunkCommitted(ChunkReport report) {
        rows.increment((double) report.range().rows());
        wal.increment((double) report.walBytes());
        committed.increment();
        duration.record(report.nanos(), TimeUnit.NANOSECONDS);
        chunkRows.set(report.range().rows());
        if (estimated > 0) {
            progressPermille.set(Math.min(1000, report.totalRows() * 1000 / estimated));
        }
        double seconds = (System.nanoTime() - startedNanos) / 1e9;
        double rate = seconds > 0 ? (report.totalRows() - rowsAtStart) / seconds : 0;
        etaSeconds.set(rate > 0 ? Math.max(0, Math.round((estimated - report.totalRows()) / rate)) : -1);
    }

    @Override
    public void chunkFailed(String error, int attempt) {
        failed.increment();
    }

    @Override
    public void throttled(String reason) {
        states.state(job, dev.sluice.engine.JobStatus.State.THROTTLED);
    }

    @Override
    public void unthrottled(long waitedNanos) {
        states.state(job, dev.sluice.engine.JobStatus.State.RUNNING);
    }

    @Override
    public void waited(String reason, long nanos) {
        throttle.computeIfAbsent(
                        reason,
                        r -> Counter.builder("sluice.throttle")
                                .baseUnit("seconds")
                                .description("time chunks waited, by reason")
                                .tag(TAG, job)
                                .tag("reason", r)
                                .register(registry))
                .increment(nanos / 1e9);
    }

    /** Latest health readings: replica lag gauges. */
    public void readings(Iterable<Reading> readings) {
        for (Reading r : readings) {
            if (r.subject().startsWith("health.")) {
                signal(r);
                continue;
            }
            if (!r.subject().startsWith("replica ")) {
                continue;
            }
            String replica = r.subject().substring("replica ".length());
            if (r.bytes()) {
                gauge(lagBytes, "sluice.replica.lag.bytes", replica, "bytes").set(Math.round(r.value()));
            } else {
                gauge(lagMillis, "sluice.replica.lag", replica, "seconds")
                        .set(Double.isInfinite(r.value()) ? Long.MAX_VALUE : Math.round(r.value() * 1000));
                gauge(lagLimitMillis, "sluice.replica.lag.limit", replica, "seconds")
                        .set(Math.round(r.limit() * 1000));
            }
        }
    }

    /**
     * An operator's signal ({@code health.query}, {@code health.prometheus}, {@code health.http}): its last value and
     * its limit, {@code sluice_health_signal{backfill,signal}} and {@code sluice_health_signal_limit{backfill,signal}}.
     */
    private void signal(Reading r) {
        String signal = r.subject().substring("health.".length());
        signals.computeIfAbsent(signal + " value", k -> signalGauge("sluice.health.signal", signal, "value"))
                .set(Double.doubleToLongBits(r.value()));
        signals.computeIfAbsent(signal + " limit", k -> signalGauge("sluice.health.signal.limit", signal, "limit"))
                .set(Double.doubleToLongBits(r.limit()));
    }

    /** A gauge of a double, kept as its bits. */
    private AtomicLong signalGauge(String name, String signal, String what) {
        AtomicLong bits = new AtomicLong(Double.doubleToLongBits(Double.NaN));
        Gauge.builder(name, bits, b -> Double.longBitsToDouble(b.get()))
                .description("an operator's health signal: its " + what)
                .tag(TAG, job)
                .tag("signal", signal)
                .strongReference(true)
                .register(registry);
        return bits;
    }

    private AtomicLong gauge(Map<String, AtomicLong> gauges, String name, String replica, String unit) {
        return gauges.computeIfAbsent(replica, k -> {
            AtomicLong value = new AtomicLong();
            Gauge.builder(name, value, v -> "seconds".equals(unit) ? v.get() / 1000.0 : v.get())
                    .baseUnit(unit)
                    .description("replica replay lag")
                    .tag("replica", k)
                    .strongReference(true)
                    .register(registry);
            return value;
        });
    }
}
