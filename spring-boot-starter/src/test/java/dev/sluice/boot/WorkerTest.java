package dev.sluice.boot;

import static org.assertj.core.api.Assertions.assertThat;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Postgres;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * An application with {@code sluice.worker.threads} is a remote worker: a {@code workers: remote} job run elsewhere
 * has its partitions taken and run by it; without the property it takes none.
 */
class WorkerTest {

    @Test
    @Timeout(120)
    void anApplicationWithWorkerThreadsRunsRemotePartitions() throws Exception {
        try (HikariDataSource ds = Postgres.newDatabase();
                Backfill runner = new Backfill(ds)) {
            Db db = new Db(ds);
            db.counters("t", 8000);
            new ApplicationContextRunner()
                    .withConfiguration(AutoConfigurations.of(SluiceAutoConfiguration.class))
                    .withBean(DataSource.class, () -> Postgres.dataSource(ds.getJdbcUrl()))
                    .withPropertyValues("sluice.scheduling=false")
                    .run(context -> assertThat(context).doesNotHaveBean(SluiceWorker.class));
            new ApplicationContextRunner()
                    .withConfiguration(AutoConfigurations.of(SluiceAutoConfiguration.class))
                    .withBean(DataSource.class, () -> Postgres.dataSource(ds.getJdbcUrl()))
                    .withPropertyValues("sluice.scheduling=false", "sluice.worker.threads=2")
                    .run(context -> {
                        assertThat(context).hasSingleBean(SluiceWorker.class);
                        RunResult run = runner.run(SpecParser.parse("""
                                        name: remote
                                        table: t
                                        key: [id]
                                        set: { n: n + 1 }
                                        parallel: 2
                                        workers: remote
                                        chunk: { rows: 500 }
                                        """), RunOptions.defaults());
                        assertThat(run.outcome()).as(run.message()).isEqualTo(RunResult.Outcome.COMPLETED);
                    });
            assertThat(db.count("SELECT count(*) FROM t WHERE n <> 1")).isZero();
            assertThat(db.count("SELECT count(*) FROM sluice.partition_leases WHERE job = 'remote'"))
                    .as("the application took both partitions")
                    .isEqualTo(2);
        }
    }
}
