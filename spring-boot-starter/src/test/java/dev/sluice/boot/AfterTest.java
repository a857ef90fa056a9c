package dev.sluice.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.util.List;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Eventually;
import dev.sluice.engine.testing.Postgres;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import org.junit.jupiter.api.Test;

/**
 * A job that waits for another ({@code after}) and has no schedule of its own: the scheduler starts it once the job
 * it names is done and validated clean, not before.
 */
class AfterTest {

    @Test
    void aWaitingJobStartsOnceTheJobItNamesIsDone() throws Exception {
        try (HikariDataSource ds = Postgres.newDatabase();
                Backfill backfill = new Backfill(ds)) {
            Db db = new Db(ds);
            db.exec(
                    "CREATE TABLE t (id int PRIMARY KEY, a int NOT NULL DEFAULT 0, b int NOT NULL DEFAULT 0)",
                    "INSERT INTO t (id) SELECT g FROM generate_series(1, 3000) g");
            JobSpec first = SpecParser.parse("""
                    name: first
                    table: t
                    key: [id]
                    set: { a: id }
                    validate: [ { target: a, source: id } ]
                    """);
            JobSpec second = SpecParser.parse("""
                    name: second
                    table: t
                    key: [id]
                    after: [first]
                    set: { b: a * 2 }
                    validate: [ { target: b, source: a * 2 } ]
                    """);
            try (JobScheduler scheduler = new JobScheduler(
                    backfill, List.of(first, second), new SimpleMeterRegistry(), url -> null, Clock.systemUTC())) {
                scheduler.start();
                Thread.sleep(JobScheduler.AFTER_CHECK.toMillis() * 2); // two checks: first has not run
                assertThat(backfill.status("second").state()).isEqualTo(JobStatus.State.NOT_STARTED);

                RunResult ran = backfill.run(first, RunOptions.defaults());
                assertThat(ran.outcome()).as(ran.message()).isEqualTo(RunResult.Outcome.COMPLETED);
                Eventually.eventually(
                        Duration.ofSeconds(60),
                        "second COMPLETED after first",
                        () -> backfill.status("second").state() == JobStatus.State.COMPLETED);
            }
            assertThat(db.count("SELECT count(*) FROM t WHERE b <> id * 2")).isZero();
        }
    }
}
