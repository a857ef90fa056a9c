package dev.sluice.engine.launch;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import javax.sql.DataSource;

import dev.sluice.engine.ChunkObserver;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.checkpoint.BackfillJob;
import dev.sluice.engine.checkpoint.JobRuns;
import dev.sluice.engine.checkpoint.Run;
import dev.sluice.engine.checkpoint.Work;
import dev.sluice.engine.chunk.Failures;
import dev.sluice.engine.control.LostDatabase;
import dev.sluice.engine.control.Reconnection;
import dev.sluice.engine.control.RunnerLock;
import dev.sluice.engine.health.HealthGates;
import dev.sluice.engine.metrics.JobMetrics;
import dev.sluice.engine.metrics.JobStateMetrics;
import dev.sluice.engine.notify.Notifier;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.throttle.Pacer;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.observation.ObservationRegistry;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a job's work under the job's runner lock, and rides through a lost database: when the connection goes (in a
 * chunk, in the job repository's bookkeeping, in the lock's own session), it waits for the database to answer
 * again, takes the lock again and continues from the last committed checkpoint. Another runner that took the lock
 * meanwhile wins: this one returns NOT_RUNNABLE.
 */
public final class Launcher {

    private static final Logger LOG = LoggerFactory.getLogger(Launcher.class);
    private static final Duration UNDO_REFRESH = Duration.ofSeconds(10);
    // A job's lock may be held for a moment by a round that keeps a completed job in step (SyncStep.drainRound, about a
    // second): a verb waits that long for it before it finds the job busy.
    private static final Duration ROUND_WAIT = Duration.ofSeconds(3);
    private static final long ROUND_POLL_MILLIS = 100;

    /** What a runner holding the job's lock does with the work's last run. */
    @FunctionalInterface
    public interface Decider {
        /** @param attempt 1, then 2, 3, ... after each reconnect */
        Decision decide(Optional<Run> last, int attempt) throws SQLException;

        /** A validation or repair continues its unfinished run, else starts a new one. */
        Decider AUXILIARY =
                (last, attempt) -> last.isEmpty() || last.get().state().ended()
                        ? Decision.start(last.map(Run::number).orElse(0L) + 1)
                        : Decision.resume();
    }

    /** Refuses to continue a run whose spec changed what it writes, unless forced (nothing is written then). */
    public static void refuseChangedSemantics(Run last, JobSpec spec, boolean force) {
        if (force || !semanticsChanged(last, spec)) {
            return;
        }
        throw changedSince(
                last,
                spec,
                " started",
                "resuming would mix two transformations: restore it, or resume with" + " --force");
    }

    /** Whether {@code spec} writes otherwise than the one {@code last} ran with. */
    public static boolean semanticsChanged(Run last, JobSpec spec) {
        return last.specDigest() != null && !last.specDigest().equals(spec.semanticDigest());
    }

    /** The refusal of a changed spec, naming the first changed field: "changed since job NAME{@code since} (...)". */
    public static SpecException changedSince(Run last, JobSpec spec, String since, String advice) {
        List<String> changed = last.spec() == null
                ? List.of()
                : spec.semantics().changedFrom(last.spec().semantics());
        return new SpecException(
                changed.isEmpty() ? "" : changed.get(0),
                "changed since job " + spec.name() + since + " (" + String.join(", ", changed) + "); " + advice);
    }

    /** Start run number {@code startNumber}, continue the last run, or return at once with a result. */
    public record Decision(long startNumber, boolean continues, RunResult done) {
        public static Decision start(long number) {
            return new Decision(number, false, null);
        }

        public static Decision resume() {
            return new Decision(0, true, null);
        }

        public static Decision done(RunResult result) {
            return new Decision(0, false, result);
        }
    }

    /** The run a launch ended with, or the result it returned without one. */
    public record Launched(Run run, RunResult result) {}

    private final DataSource dataSource;
    private final LostDatabase database;
    private final JobRuns runs;
    private final SyncStep sync;
    private final Map<MeterRegistry, JobStateMetrics> stateMetrics = new ConcurrentHashMap<>();
    private final Map<MeterRegistry, Map<String, JobMetrics>> jobMetrics = new ConcurrentHashMap<>();

    public Launcher(LostDatabase database, JobRuns runs, String schema) {
        this.database = database;
        this.dataSource = database;
        this.runs = runs;
        this.sync = new SyncStep(dataSource, runs, schema);
    }

    /**
     * @param metrics where the run's meters go, or null (validation and repair do not feed the job's chunk meters:
     *                those count the backfill)
     */
    public Launched launch(RunnerHold hold, Work work, RunOptions options, Decider decider, MeterRegistry metrics)
            throws SQLException {
        JobSpec spec = work.prepared().spec();
        Reconnection reconnection = new Reconnection(
                database.database(),
                spec.timeouts().reconnect(),
                options.stop(),
                options.observer()::reconnecting,
                database::found);
        // When an attempt's lock watch noticed the database gone, and why.
        Notice noticed = new Notice();
        for (int attempt = 1; ; attempt++) {
            String lost;
            noticed.clear();
            try {
                RunnerLock lock = hold.lock();
                if (lock == null) {
                    return new Launched(
                            null,
                            RunResult.of(
                                    RunResult.Outcome.NOT_RUNNABLE,
                                    "job " + spec.name() + " is "
                                            + (reconnection.reconnects() > 0
                                                    ? "held by another runner since this one lost the database"
                                                    : "already running")
                                            + holder(spec.name())));
                }
                Attempt tried = attempt(work, options, decider, metrics, lock, attempt, noticed);
                if (tried.launched() != null) {
                    return tried.launched();
                }
                lost = tried.lost();
            } catch (SQLException e) {
                if (!Reconnection.isLost(e)) {
                    throw e;
                }
                lost = Failures.describe(e); // taking the lock found the database gone
            }
            hold.release(); // its session died with the database; the next attempt takes the lock again
            try {
                // timeouts.reconnect counts from when the loss was noticed, not from when the attempt wound down; said
                // once (the watch said it already).
                if (noticed.at() == 0) {
                    reconnection.await(lost);
                } else {
                    reconnection.awaitNoticed(noticed.why(), noticed.at());
                }
            } catch (Reconnection.GaveUp e) {
                return new Launched(
                        null,
                        RunResult.of(
                                e.stopped() ? RunResult.Outcome.STOPPED : RunResult.Outcome.FAILED,
                                "job " + spec.name() + " " + e.getMessage()));
            }
        }
    }

    /** When an attempt's lock watch noticed the database gone ({@link System#nanoTime}, 0 if it has not), and why. */
    private static final class Notice {
        private long at;
        private String why;

        synchronized void noticed(String reason) {
            if (at == 0) {
                at = System.nanoTime();
                why = Failures.firstLine(reason);
            }
        }

        synchronized void clear() {
            at = 0;
            why = null;
        }

        synchronized long at() {
            return at;
        }

        synchronized String why() {
            return why;
        }
    }

    /** What one attempt under the lock came to: a launch, or why the database was lost. */
    private record Attempt(Launched launched, String lost) {}

    private Attempt attempt(
            Work work,
            RunOptions options,
            Decider decider,
            MeterRegistry metrics,
            RunnerLock lock,
            int attempt,
            Notice noticed)
            throws SQLException {
        JobSpec spec = work.prepared().spec();
        // Said at once, from the lock's own watch: the attempt itself may take a few seconds more to end (each of
        // Spring Batch's last writes waits for the pool to give up on the database).
        try (RunnerLock.Watch watch = lock.watch(why -> {
                    noticed.noticed(why);
                    lost(spec.name(), why);
                });
                HealthGates gates = HealthGates.forSpec(
                        spec.health(),
                        dataSource,
                        options.standbys(),
                        work.prepared().written())) {
            try {
                Decision decision = decider.decide(runs.last(work.jobName()), attempt);
                if (decision.done() != null) {
                    return new Attempt(new Launched(null, decision.done()), null);
                }
                String refused = sync.install(work);
                if (refused != null) {
                    return new Attempt(new Launched(null, RunResult.of(RunResult.Outcome.FAILED, refused)), null);
                }
                BackfillJob.Wiring wiring = wiring(spec.name(), spec, lock, options, gates, metrics);
                Run run = decision.continues()
                        ? runs.resume(work, wiring)
                        : runs.start(work, decision.startNumber(), wiring);
                String lost = lostDatabase(run.failures(), lock);
                return lost == null ? new Attempt(new Launched(run, null), null) : new Attempt(null, lost);
            } catch (SpecException e) {
                throw e;
            } catch (Exception e) {
                String lost = lostDatabase(List.of(e), lock);
                if (lost != null) {
                    return new Attempt(null, lost);
                }
                if (e instanceof SQLException sql) {
                    throw sql;
                }
                throw new IllegalStateException("cannot run " + work.jobName() + ": " + Failures.describe(e), e);
            }
        }
    }

    /**
     * The lock's watch found the database gone: said at once, and connections refused at once until a reconnection
     * finds it back, so that the attempt's last writes do not each wait for the pool to give up.
     */
    private void lost(String job, String why) {
        LOG.warn(
                "job {}: lost the database ({}); ending this attempt, then reconnecting", job, Failures.firstLine(why));
        database.lost(Failures.firstLine(why));
    }

    /**
     * Why the database was lost, or null: a failure that says so itself, or any failure of a runner whose lock's
     * session has ended (a failure's own words may be the pool's "connection is closed" on cleaning up).
     */
    private static String lostDatabase(List<Throwable> failures, RunnerLock lock) {
        for (Throwable t : failures) {
            if (Reconnection.isLost(t)) {
                return Failures.describe(t);
            }
        }
        if (failures.isEmpty() || lock.isAlive()) {
            return null;
        }
        return "the server ended the runner's sessions, its lock's too: a restart or a failover";
    }

    /** The sync trigger's part of a run. */
    public SyncStep sync() {
        return sync;
    }

    /** Who holds job {@code job}'s lock, for a message: " (by sluice pid 4242 on batch-1, PostgreSQL backend pid 77)". */
    public String holder(String job) {
        try (Connection c = dataSource.getConnection()) {
            return RunnerLock.holder(c, job)
                    .map(r -> " (by "
                            + (r.pid() == null
                                    ? "a runner"
                                    : "sluice pid " + r.pid() + (r.host() == null ? "" : " on " + r.host()))
                            + ", PostgreSQL backend pid " + r.backendPid() + ")")
                    .orElse("");
        } catch (SQLException e) {
            return "";
        }
    }

    /** The gauges of jobs' states in a registry. */
    public JobStateMetrics states(MeterRegistry registry) {
        return stateMetrics.computeIfAbsent(registry, JobStateMetrics::new);
    }

    /** Connects a run to its stop signal, observers, gates and, when asked, meters and Batch observations. */
    private BackfillJob.Wiring wiring(
            String job, JobSpec spec, RunnerLock lock, RunOptions options, HealthGates gates, MeterRegistry metrics) {
        Pacer.Observer holds = Notifier.holds(spec, options.stop());
        if (metrics == null) {
            return new BackfillJob.Wiring(
                    lock, options.stop(), options.observer(), gates, holds, ObservationRegistry.NOOP, Workers.remote());
        }
        // One set of meters per job and registry, kept across runs: a meter registered again would be ignored,
        // and a gauge would keep reading the first run's values (serve resumes jobs many times).
        JobMetrics meters = jobMetrics
                .computeIfAbsent(metrics, r -> new ConcurrentHashMap<>())
                .computeIfAbsent(job, j -> new JobMetrics(metrics, j, states(metrics)));
        meters.target(spec.chunk().target());
        gates.onReadings(meters::readings);
        ObservationRegistry observations = ObservationRegistry.create();
        observations.observationConfig().observationHandler(new DefaultMeterObservationHandler(metrics));
        ChunkObserver observers = options.observer().and(meters);
        if (spec.undo()) {
            observers = observers.and(undoGauge(job, states(metrics)));
        }
        return new BackfillJob.Wiring(
                lock, options.stop(), observers, gates, meters.and(holds), observations, Workers.remote());
    }

    /**
     * Keeps {@code sluice_undo_bytes} current while a run writes (or a rollback empties) the journal: read at most
     * every {@link #UNDO_REFRESH}, after a chunk committed. A failed read leaves the gauge as it was.
     */
    private ChunkObserver undoGauge(String job, JobStateMetrics states) {
        long[] due = {System.nanoTime()};
        return report -> {
            long now = System.nanoTime();
            if (now - due[0] < 0) {
                return;
            }
            due[0] = now + UNDO_REFRESH.toNanos();
            try {
                states.undo(job, runs.undo(job));
            } catch (SQLException e) {
                LOG.debug("job {}: the undo journal's size was not read: {}", job, e.getMessage());
            }
        };
    }

    /**
     * The job's runner lock for one call of a verb: taken at the first launch, held from the backfill's last chunk
     * into its validation (so that no other runner, and no reader of its status, finds the job between the two),
     * dropped when the database is lost and taken again after the reconnect.
     */
    public final class RunnerHold implements AutoCloseable {
        private final String job;
        private RunnerLock lock;

        public RunnerHold(String job) {
            this.job = job;
        }

        /** The lock, taken now if not held; null if another runner holds it. */
        public RunnerLock lock() throws SQLException {
            long deadline = System.nanoTime() + ROUND_WAIT.toNanos();
            while (lock == null) {
                lock = RunnerLock.tryAcquire(dataSource, job);
                if (lock != null || System.nanoTime() > deadline) {
                    break;
                }
                try {
                    Thread.sleep(ROUND_POLL_MILLIS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            return lock;
        }

        public void release() {
            if (lock != null) {
                lock.close();
                lock = null;
            }
        }

        @Override
        public void close() {
            release();
        }
    }
}
