package dev.sluice.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Eventually;
import dev.sluice.engine.testing.Postgres;

import org.junit.jupiter.api.Test;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Two instances of one application, both scheduling the same job every second: the job's advisory lock lets one
 * runner in at a time, and when the instance running it goes away mid-job, the other continues from the
 * checkpoint. The job adds one to every row, so a chunk applied twice would show.
 */
class SharedWorkTest {

    @Test
    void twoInstancesShareAJobAndTheSurvivorFinishesIt() throws Exception {
        try (HikariDataSource ds = Postgres.newDatabase()) {
            Db db = new Db(ds);
            db.exec(
                    "CREATE TABLE visits (id int PRIMARY KEY, n int NOT NULL DEFAULT 0)",
                    "INSERT INTO visits (id) SELECT g FROM generate_series(1, 12000) g",
                    "CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL, email_lower text)");
            ConfigurableApplicationContext a = instance(ds);
            ConfigurableApplicationContext b = instance(ds);
            try {
                Backfill backfill = a.getBean(Backfill.class);
                Eventually.eventually(
                        Duration.ofSeconds(60),
                        "count-visits under way",
                        () -> status(backfill).rowsProcessed() > 1000);
                // The instance that runs it goes away (STOPPED after its chunk, as at a deploy); the other one's
                // schedule picks the job up from its checkpoint.
                // The other instance's schedule keeps trying every second; each try sees the runner's lock and backs
                // off, but for the moment of a try both instances list the job: wait for a moment between tries.
                ConfigurableApplicationContext[] seen = new ConfigurableApplicationContext[1];
                Eventually.eventually(Duration.ofSeconds(30), "exactly one instance runs the job", () -> {
                    boolean inA = runs(a);
                    boolean inB = runs(b);
                    seen[0] = inA ? a : b;
                    return inA != inB;
                });
                ConfigurableApplicationContext runner = seen[0];
                ConfigurableApplicationContext survivor = runner == a ? b : a;
                assertThat(status(backfill).state())
                        .as("the job is still under way")
                        .isNotEqualTo(JobStatus.State.COMPLETED);
                long before = status(backfill).rowsProcessed();
                runner.close();
                Backfill survivors = survivor.getBean(Backfill.class);
                Eventually.eventually(
                        Duration.ofSeconds(90),
                        "count-visits COMPLETED by the survivor",
                        () -> status(survivors).state() == JobStatus.State.COMPLETED);
                assertThat(before).isLessThan(12000);
            } finally {
                a.close();
                b.close();
            }
            assertThat(db.count("SELECT count(*) FROM visits WHERE n <> 1")).isZero();
        }
    }

    private static boolean runs(ConfigurableApplicationContext instance) {
        return instance.getBean(JobScheduler.class).running().containsKey("count-visits");
    }

    private static JobStatus status(Backfill backfill) throws Exception {
        return backfill.status("count-visits");
    }

    private static ConfigurableApplicationContext instance(HikariDataSource ds) {
        return new SpringApplicationBuilder(ShopApplication.class)
                .web(WebApplicationType.NONE)
                .properties(
                        "spring.datasource.url=" + ds.getJdbcUrl(),
                        "spring.datasource.username=postgres",
                        "sluice.jobs=classpath*:sluice/shared/*.yml",
                        "spring.main.banner-mode=off")
                .run();
    }
}
