package dev.sluice.engine.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.ControlRequest;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.StopSignal;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.DatabaseTest;
import dev.sluice.engine.testing.Eventually;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code workers: remote} with workers in this process (each its own {@link Backfill} and pool, as a {@code sluice
 * worker} process has): the partitions are taken from the PostgreSQL channel and run there, every row exactly once; a
 * worker that stops hands its partitions back and another continues them from their checkpoints; an operator's pause
 * reaches the remote partitions. The jobs module's {@code WorkerProcessTest} does the same with real processes and
 * SIGKILL.
 */
class RemoteWorkersTest extends DatabaseTest {

    private static final int ROWS = 20_000;

    private final List<Worker> workers = new ArrayList<>();

    /** A worker: its own Backfill, working on a thread of its own until stopped. */
    private final class Worker {
        final StopSignal stop = new StopSignal();
        final Backfill own = new Backfill(ds);
        final CompletableFuture<Void> done;

        Worker(int threads) {
            done = CompletableFuture.runAsync(() -> {
                try {
                    own.work(RunOptions.defaults().withStop(stop), threads);
                } catch (Exception | Error e) {
                    org.slf4j.LoggerFactory.getLogger(RemoteWorkersTest.class).error("the worker failed", e);
                    throw new IllegalStateException(e);
                }
            });
        }

        void stop() throws Exception {
            stop.request("worker stopped by the test");
            done.get(60, TimeUnit.SECONDS);
            own.close();
        }
    }

    private Worker worker(int threads) {
        Worker w = new Worker(threads);
        workers.add(w);
        return w;
    }

    @BeforeEach
    void table() {
        db.counters("t", ROWS);
    }

    @AfterEach
    void stopWorkers() throws Exception {
        for (Worker w : workers) {
            if (!w.done.isDone()) {
                w.stop();
            }
        }
    }

    private static JobSpec spec(long rowsPerSecond) {
        return SpecParser.parse("""
                name: remote
                table: t
                key: [id]
                set: { n: n + 1 }
                parallel: 4
                workers: remote
                chunk: { rows: 250, min-rows: 250, max-rows: 250 }
                throttle: { rows-per-second: %d }
                validate: [ { check: "n = 1" } ]
                """.formatted(rowsPerSecond));
    }

    /** The job's run, by the runner on a thread of its own. */
    private CompletableFuture<RunResult> runAsync(JobSpec spec) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return backfill.run(spec, RunOptions.defaults());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private void everyRowOnce() {
        assertThat(db.count("SELECT count(*) FROM t WHERE n <> 1"))
                .as("rows not applied exactly once")
                .isZero();
    }

    @Test
    @Timeout(180)
    void partitionsRunOnWorkersEachRowExactlyOnce() throws Exception {
        worker(2);
        worker(2);
        RunResult run = backfill.run(spec(0), RunOptions.defaults());
        assertThat(run.outcome()).as(run.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        everyRowOnce();
        assertThat(db.count("SELECT count(DISTINCT worker_pid) FROM sluice.partition_leases WHERE job = 'remote'"))
                .as("the partitions were taken by workers")
                .isEqualTo(1); // this process: both workers
        assertThat(db.count("SELECT count(*) FROM sluice.partition_leases WHERE job = 'remote'"))
                .isEqualTo(4);
        assertThat(backfill.status("remote").partitions())
                .as("status names each partition's worker")
                .allSatisfy(p -> assertThat(p.worker()).isNotNull());
    }

    @Test
    @Timeout(180)
    void aWorkerThatStopsHandsItsPartitionsBackAndAnotherContinuesThem() throws Exception {
        Worker first = worker(4);
        CompletableFuture<RunResult> run = runAsync(spec(4000));
        Eventually.eventually(
                Duration.ofSeconds(60),
                "the first worker's chunks",
                () -> db.count("SELECT count(*) FROM t WHERE n = 1") > 2000);
        first.stop();
        long atHandOver = db.count("SELECT count(*) FROM t WHERE n = 1");
        assertThat(atHandOver).as("the stopped worker left rows for the next").isLessThan(ROWS);
        worker(4);
        RunResult result = run.get(150, TimeUnit.SECONDS);
        assertThat(result.outcome()).as(result.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        everyRowOnce();
        assertThat(db.count("SELECT max(sends) FROM sluice.partition_leases WHERE job = 'remote'"))
                .as("the partitions were sent again")
                .isGreaterThan(1);
    }

    @Test
    @Timeout(180)
    void pauseAndTuneReachRemotePartitions() throws Exception {
        worker(4);
        CompletableFuture<RunResult> run = runAsync(spec(4000));
        Eventually.eventually(
                Duration.ofSeconds(60),
                "the worker's chunks",
                () -> db.count("SELECT count(*) FROM t WHERE n = 1") > 1000);
        backfill.control("remote", new ControlRequest(ControlRequest.Command.TUNE, 400L, null), Duration.ZERO, "test");
        Eventually.eventually(
                Duration.ofSeconds(30),
                "the runner telling its workers the tuned rate",
                () -> db.count("SELECT coalesce(max(rows_per_second), 0) FROM sluice.remote_runs") == 400L);
        backfill.control("remote", new ControlRequest(ControlRequest.Command.PAUSE, null, null), Duration.ZERO, "test");
        RunResult paused = run.get(120, TimeUnit.SECONDS);
        assertThat(paused.outcome()).as(paused.message()).isEqualTo(RunResult.Outcome.STOPPED);
        long atPause = db.count("SELECT count(*) FROM t WHERE n = 1");
        assertThat(atPause).as("paused before the end").isLessThan(ROWS);
        Thread.sleep(1500);
        assertThat(db.count("SELECT count(*) FROM t WHERE n = 1"))
                .as("no worker writes after the pause")
                .isEqualTo(atPause);
        RunResult resumed = backfill.run(spec(0), RunOptions.defaults().resumeOnly(true));
        assertThat(resumed.outcome()).as(resumed.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        everyRowOnce();
    }
}
