package dev.sluice.engine.metrics;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import dev.sluice.engine.JobStatus;
import dev.sluice.engine.RuleResult;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Gauges that describe jobs from the outside: {@code sluice_job_state{backfill,state}} (1 for the job's state, 0 for
 * the others), {@code sluice_validation_mismatches{backfill,rule}} and {@code sluice_undo_bytes{backfill}} (the undo
 * journal's size as stored, read after each run).
 */
public final class JobStateMetrics {

    private final MeterRegistry registry;
    private final Map<String, AtomicLong> states = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> mismatches = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> undoBytes = new ConcurrentHashMap<>();

    public JobStateMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    public void state(String job, JobStatus.State state) {
        for (JobStatus.State s : JobStatus.State.values()) {
            states.computeIfAbsent(job + "\u0000" + s, k -> {
                        AtomicLong v = new AtomicLong();
                        Gauge.builder("sluice.job.state", v, AtomicLong::get)
                                .description("1 for the job's current state")
                                .tag(JobMetrics.TAG, job)
                                .tag("state", s.name())
                                .strongReference(true)
                                .register(registry);
                        return v;
                    })
                    .set(s == state ? 1 : 0);
        }
    }

    public void undo(String job, JobStatus.Undo undo) {
        undoBytes
                .computeIfAbsent(job, k -> {
                    AtomicLong v = new AtomicLong();
                    Gauge.builder("sluice.undo.bytes", v, AtomicLong::get)
                            .description("the undo journal's size, as stored")
                            .tag(JobMetrics.TAG, job)
                            .strongReference(true)
                            .register(registry);
                    return v;
                })
                .set(undo == null ? 0 : undo.bytes());
    }

    public void validation(String job, List<RuleResult> rules) {
        for (RuleResult r : rules) {
            mismatches
                    .computeIfAbsent(job + "\u0000" + r.rule(), k -> {
                        AtomicLong v = new AtomicLong();
                        Gauge.builder("sluice.validation.mismatches", v, AtomicLong::get)
                                .description("mismatches the last validation found")
                                .tag(JobMetrics.TAG, job)
                                .tag("rule", r.rule())
                                .strongReference(true)
                                .register(registry);
                        return v;
                    })
                    .set(r.mismatches());
        }
    }
}
