package dev.sluice.boot;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TimeZone;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.sluice.engine.Actor;
import dev.sluice.engine.Backfill;
import dev.sluice.engine.ChunkObserver;
import dev.sluice.engine.ChunkReport;
import dev.sluice.engine.JobNotDoneException;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.StopSignal;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.Window;
import dev.sluice.engine.spi.Connector;

import io.micrometer.core.instrument.MeterRegistry;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;
import org.springframework.scheduling.support.CronTrigger;

/**
 * Runs jobs on their schedules, in {@code sluice serve} and in an application using the starter. Every spec with a
 * {@code schedule.cron} is started or
 * resumed when its cron fires, if its window (if any) is open; a running job is paused when its window closes
 * and resumed when it opens again. Several instances may serve one database: the job's advisory lock lets one
 * runner in, the others' attempts are refused and retried at the next tick, so a job whose runner died is picked
 * up by whichever instance fires next.
 */
public final class JobScheduler implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(JobScheduler.class);
    // How often windows are checked: a window's end is honoured within a chunk of this.
    static final Duration WINDOW_CHECK = Duration.ofSeconds(1);
    // A stopping job finishes its chunk; chunks are sized to a fraction of a second, timeouts to 30 s.
    static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(60);
    // How often a completed job's key log is drained (Java and cross-database sync): require --sync-lag must allow
    // more than this, and a round's own time.
    static final Duration KEEP_IN_STEP = Duration.ofSeconds(5);
    // How soon a job waiting for others starts once they are done: a status read and a require a job, every 5 s.
    static final Duration AFTER_CHECK = Duration.ofSeconds(5);

    private final Backfill backfill;
    private final MeterRegistry metrics;
    private final Connector standbys;
    private final Clock clock;
    private final List<JobSpec> specs;
    private final ThreadPoolTaskScheduler scheduler = new ThreadPoolTaskScheduler();
    private final List<ScheduledFuture<?>> schedules = new CopyOnWriteArrayList<>();
    private final ExecutorService runners = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "sluice-runner");
        t.setDaemon(false);
        return t;
    });
    private final Map<String, StopSignal> running = new ConcurrentHashMap<>();
    private final Map<String, RunResult> lastResults = new ConcurrentHashMap<>();

    /** What the last run of a job in this instance ended with, or null. */
    public RunResult lastResult(String job) {
        return lastResults.get(job);
    }

    /**
     * @param specs    the jobs it schedules (and may resume on an operator's request)
     * @param standbys opens the connections to the standbys specs name ({@code health.replicas})
     */
    public JobScheduler(
            Backfill backfill, List<JobSpec> specs, MeterRegistry metrics, Connector standbys, Clock clock) {
        this.backfill = backfill;
        this.metrics = metrics;
        this.standbys = standbys;
        this.clock = clock;
        this.specs = List.copyOf(specs);
    }

    private final AtomicBoolean started = new AtomicBoolean();

    /** Starts the cron triggers and the window watch (once; later calls do nothing). */
    public void start() {
        if (!started.compareAndSet(false, true)) {
            return;
        }
        scheduler.setPoolSize(2);
        scheduler.setThreadNamePrefix("sluice-schedule-");
        scheduler.initialize();
        for (JobSpec spec : specs) {
            if (spec.schedule() != null && spec.schedule().cron() != null) {
                TimeZone zone = spec.schedule().window() == null
                        ? TimeZone.getTimeZone("UTC")
                        : TimeZone.getTimeZone(
                                Window.parse(spec.schedule().window()).zone());
                schedules.add(scheduler.schedule(
                        () -> fire(spec), new CronTrigger(spec.schedule().cron(), zone)));
                LOG.info(
                        "job {} scheduled: {} {}",
                        spec.name(),
                        spec.schedule().cron(),
                        spec.schedule().window() == null
                                ? ""
                                : "in window " + spec.schedule().window());
            }
        }
        schedules.add(scheduler.scheduleWithFixedDelay(this::watchWindows, WINDOW_CHECK));
        if (specs.stream().anyMatch(JobScheduler::logsKeys)) {
            schedules.add(scheduler.scheduleWithFixedDelay(this::keepInStep, KEEP_IN_STEP));
        }
        if (specs.stream().anyMatch(spec -> !spec.after().isEmpty())) {
            schedules.add(scheduler.scheduleWithFixedDelay(this::startWaiting, AFTER_CHECK));
        }
    }

    /**
     * Starts the jobs that wait for others ({@code after}) and have not started, once every job they name is done: at
     * that moment, not at their next schedule (a job with no schedule starts only so).
     */
    private void startWaiting() {
        for (JobSpec spec : specs) {
            if (spec.after().isEmpty() || running.containsKey(spec.name())) {
                continue;
            }
            try {
                if (backfill.status(spec.name()).state() != JobStatus.State.NOT_STARTED) {
                    continue;
                }
                backfill.require(spec.after().toArray(String[]::new));
            } catch (JobNotDoneException waiting) {
                continue; // one of them is not done yet
            } catch (Exception e) {
                LOG.warn("job {}: cannot tell whether the jobs it waits for are done: {}", spec.name(), e.getMessage());
                continue;
            }
            fire(spec, false, "the jobs it waits for are done (after: " + String.join(", ", spec.after()) + ")", null);
        }
    }

    /** Whether the job's sync trigger logs the keys the application changes, for a runner to re-apply. */
    private static boolean logsKeys(JobSpec spec) {
        return spec.sync() == JobSpec.Sync.TRIGGER && spec.writes().syncLogsKeys();
    }

    /**
     * Keeps completed jobs whose trigger logs keys in step with the application's writes, until finish drops the
     * trigger: a round of each one's key log (the instance that gets the job's lock does it).
     */
    private void keepInStep() {
        for (JobSpec spec : specs) {
            if (!logsKeys(spec) || running.containsKey(spec.name())) {
                continue;
            }
            try {
                long keys = backfill.keepInStep(spec);
                if (keys > 0) {
                    LOG.info("job {}: kept in step: re-applied {} keys the application changed", spec.name(), keys);
                }
            } catch (Exception e) {
                LOG.warn("job {}: not kept in step this round: {}", spec.name(), e.getMessage());
            }
        }
    }

    public List<JobSpec> specs() {
        return specs;
    }

    /** The spec of a job this scheduler knows, or null. */
    public JobSpec spec(String name) {
        return specs.stream().filter(s -> s.name().equals(name)).findFirst().orElse(null);
    }

    /** Jobs this instance runs now, and the stop signals that end them. */
    public Map<String, StopSignal> running() {
        return Map.copyOf(running);
    }

    /** Starts or continues the job now if it may run: its window is open, no runner has it, it is not done. */
    public void fire(JobSpec spec) {
        fire(spec, false, null, null);
    }

    /**
     * @param byOperator an operator's resume: continues a job an operator paused, which the schedule never does
     * @param reason     why it starts, for the log; null: the operator's resume, the window or the schedule
     * @return null when a runner was started, else why not
     */
    private String fire(JobSpec spec, boolean byOperator, String reason, Actor operator) {
        // The audit trail names the operator who resumed it, else the schedule of this process.
        Backfill acting =
                backfill.as(operator != null ? operator : backfill.actor().request("schedule", null, null));
        if (!windowOpen(spec)) {
            return "its window " + spec.schedule().window() + " is closed; it resumes when the window opens";
        }
        if (running.containsKey(spec.name())) {
            return "it is running in this instance";
        }
        JobStatus status;
        try {
            status = backfill.status(spec.name());
        } catch (Exception e) {
            LOG.warn("job {}: cannot read its status: {}", spec.name(), e.getMessage());
            return "its status cannot be read: " + e.getMessage();
        }
        if (status.running()) {
            return "a runner elsewhere has it";
        }
        if (status.state() == JobStatus.State.CANCELLED
                || status.state() == JobStatus.State.COMPLETED
                || status.state() == JobStatus.State.FINISHED
                || status.state() == JobStatus.State.ROLLED_BACK) {
            return "it is " + status.state(); // cancelled stays cancelled; done is done; an operator starts it over
        }
        boolean paused = status.state() == JobStatus.State.PAUSED;
        if (paused && !byOperator && !StopSignal.WINDOW.equals(status.stopReason())) {
            return "an operator paused it"; // it holds until an operator resumes
        }
        StopSignal stop = new StopSignal();
        if (running.putIfAbsent(spec.name(), stop) != null) {
            return "it is running in this instance";
        }
        String why = reason != null
                ? reason
                : byOperator
                        ? "an operator resumed it"
                        : paused
                                ? "its window opened"
                                : "its schedule fired (" + spec.schedule().cron() + ")";
        runners.execute(() -> {
            StartLog started = new StartLog(spec.name(), why);
            try {
                RunOptions options = RunOptions.defaults()
                        .withStop(stop)
                        .withStandbys(standbys)
                        .withMetrics(metrics)
                        .resumeOnly(paused)
                        .withObserver(started);
                RunResult result = acting.run(spec, options);
                lastResults.put(spec.name(), result);
                if (started.logged) {
                    LOG.info(
                            "job {} ended {}: {}",
                            spec.name(),
                            result.outcome(),
                            JobOperations.Reply.said(result.message(), result.next()));
                } else {
                    LOG.debug("job {} did not start: {}", spec.name(), result.message());
                }
            } catch (SpecException e) {
                LOG.error("job {}: refused: {}", spec.name(), e.getMessage());
            } catch (Exception e) {
                LOG.error("job {}: {}", spec.name(), e.getMessage(), e);
            } finally {
                running.remove(spec.name());
            }
        });
        return null;
    }

    /** Logs one line when a scheduled run really starts its work (a run refused at once logs none). */
    private static final class StartLog implements ChunkObserver {
        private final String job;
        private final String why;
        private volatile boolean logged;

        StartLog(String job, String why) {
            this.job = job;
            this.why = why;
        }

        @Override
        public void started(Phase phase, long estimatedRows, long rowsDone) {
            if (!logged) {
                logged = true;
                LOG.info(
                        "job {} started: {}{}",
                        job,
                        why,
                        rowsDone > 0 ? String.format(Locale.ROOT, ", continuing from %,d rows done", rowsDone) : "");
            }
        }

        @Override
        public void chunkCommitted(ChunkReport report) {}
    }

    /**
     * Continues a paused or stopped job now (an operator's resume), its window permitting.
     *
     * @return null when it was started, else why not (its window is closed, it is done, a runner has it)
     */
    public String resume(JobSpec spec) {
        return resume(spec, null);
    }

    /** {@link #resume(JobSpec)} for {@code operator}, whom the audit trail records as resuming it (null: the schedule). */
    public String resume(JobSpec spec, Actor operator) {
        return fire(spec, true, null, operator);
    }

    private void watchWindows() {
        for (JobSpec spec : specs) {
            StopSignal stop = running.get(spec.name());
            if (stop != null && !windowOpen(spec)) {
                LOG.info(
                        "job {}: window {} closed; pausing after the current chunk",
                        spec.name(),
                        spec.schedule().window());
                stop.request(StopSignal.WINDOW);
            } else if (stop == null
                    && spec.schedule() != null
                    && spec.schedule().window() != null
                    && windowOpen(spec)) {
                try {
                    JobStatus status = backfill.status(spec.name());
                    if (status.state() == JobStatus.State.PAUSED && StopSignal.WINDOW.equals(status.stopReason())) {
                        LOG.info(
                                "job {}: window {} open; resuming",
                                spec.name(),
                                spec.schedule().window());
                        fire(spec);
                    }
                } catch (Exception e) {
                    LOG.warn("job {}: cannot read its status: {}", spec.name(), e.getMessage());
                }
            }
        }
    }

    private boolean windowOpen(JobSpec spec) {
        return spec.schedule() == null
                || spec.schedule().window() == null
                || Window.parse(spec.schedule().window()).isOpen(clock.instant());
    }

    /** Stops every job this instance runs after its current chunk (STOPPED, resumable) and waits for them. */
    @Override
    public void close() {
        schedules.forEach(s -> s.cancel(false));
        scheduler.shutdown();
        running.values().forEach(s -> s.request("the application is shutting down"));
        runners.shutdown();
        try {
            if (!runners.awaitTermination(SHUTDOWN_WAIT.toSeconds(), TimeUnit.SECONDS)) {
                LOG.warn("jobs still running after {}; they resume from their checkpoints", SHUTDOWN_WAIT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // The stopped runs' last events leave before the process does.
        Backfill.awaitNotifications(NOTIFY_FLUSH);
    }

    private static final Duration NOTIFY_FLUSH = Duration.ofSeconds(10);
}
