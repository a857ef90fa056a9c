package dev.sluice.engine.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Postgres;

import org.junit.jupiter.api.Test;

/**
 * Runners that start at once against a new database (two instances of an application deployed together) create
 * the job repository once between them, and none of them fails for it.
 */
class BatchSchemaTest {

    @Test
    void runnersStartingAtOnceCreateTheRepositoryOnce() throws Exception {
        int runners = 6;
        for (int round = 0; round < 5; round++) {
            try (HikariDataSource ds = Postgres.newDatabase()) {
                ds.setMaximumPoolSize(runners * 2);
                // Every runner's session has looked the schema up (and found none) before any of them creates it:
                // the look-up a session caches must not survive another session's creation.
                Db db = new Db(ds);
                ExecutorService pool = Executors.newFixedThreadPool(runners);
                try {
                    CountDownLatch go = new CountDownLatch(1);
                    List<Future<?>> done = new ArrayList<>();
                    for (int i = 0; i < runners; i++) {
                        done.add(pool.submit(() -> {
                            go.await();
                            BatchSchema.ensure(ds, "sluice");
                            return null;
                        }));
                    }
                    go.countDown();
                    for (Future<?> f : done) {
                        f.get(60, TimeUnit.SECONDS);
                    }
                } finally {
                    pool.shutdownNow();
                }
                assertThat(db.count("SELECT count(*) FROM pg_tables WHERE schemaname = 'sluice'"))
                        .isGreaterThan(5);
            }
        }
    }
}
