package dev.sluice.engine.health;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.DriverManager;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Eventually;
import dev.sluice.engine.testing.Postgres;
import dev.sluice.engine.testing.StandbyPair;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A real streaming standby whose replay is paused holds the backfill back until replay resumes. */
class ReplicaLagGateTest {

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void noChunkCommitsWhileTheStandbyLagsAndTheJobContinuesAfterReplayResumes() throws Exception {
        try (StandbyPair pair = StandbyPair.start()) {
            String database = pair.createDatabase("lagged");
            try (HikariDataSource ds = Postgres.dataSource(pair.primary().getJdbcUrl("postgres", database))) {
                Db db = new Db(ds);
                db.exec(
                        "CREATE TABLE t (id int PRIMARY KEY, v text)",
                        "INSERT INTO t SELECT g, NULL FROM generate_series(1, 20000) g",
                        "ANALYZE t");
                Backfill backfill = new Backfill(ds);
                var spec = SpecParser.parse("""
                        name: lagged
                        table: t
                        key: [id]
                        set: { v: md5(id::text) }
                        chunk: { rows: 500, min-rows: 500, max-rows: 500 }
                        throttle: { rows-per-second: 4000 }
                        health:
                          replica-lag: { max: 1s }
                          replicas: [%s]
                          poll: 100ms
                        """.formatted(pair.standbyUrl(database)));
                awaitStandbyStreaming(db);

                pair.onStandby("SELECT pg_wal_replay_pause()");
                // The standby's lag is the age of its last replayed commit (once it has WAL it has not replayed):
                // let that commit (the set-up above) age past the limit, so that the first chunk shows the lag.
                Thread.sleep(1500);
                CompletableFuture<RunResult> run = CompletableFuture.supplyAsync(() -> {
                    try {
                        return backfill.run(
                                spec,
                                RunOptions.defaults()
                                        .withStandbys(url -> DriverManager.getConnection(url, "postgres", "")));
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });

                JobStatus throttled = awaitState(backfill, JobStatus.State.THROTTLED, 60);
                assertThat(throttled.throttleReason())
                        .contains("replica")
                        .contains("replay lag")
                        .contains("> 1.0s");
                long chunksWhenThrottled = throttled.chunks();
                Thread.sleep(3000);
                JobStatus still = backfill.status("lagged");
                assertThat(still.state()).isEqualTo(JobStatus.State.THROTTLED);
                assertThat(still.chunks())
                        .as("no chunk commits while the standby lags")
                        .isEqualTo(chunksWhenThrottled);
                assertThat(run).isNotDone();

                pair.onStandby("SELECT pg_wal_replay_resume()");
                RunResult result = run.get(90, TimeUnit.SECONDS);
                assertThat(result.outcome()).isEqualTo(RunResult.Outcome.COMPLETED);
                assertThat(db.count("SELECT count(*) FROM t WHERE v IS DISTINCT FROM md5(id::text)"))
                        .isZero();
                assertThat(backfill.status("lagged").throttleReason()).isNull();
            }
        }
    }

    private static void awaitStandbyStreaming(Db db) throws InterruptedException {
        for (int i = 0; i < 300; i++) {
            if (db.count("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") > 0) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the standby never started streaming");
    }

    private static JobStatus awaitState(Backfill backfill, JobStatus.State state, int seconds) {
        return Eventually.eventually(
                java.time.Duration.ofSeconds(seconds),
                "job lagged " + state,
                () -> backfill.status("lagged"),
                s -> s.state() == state);
    }
}
