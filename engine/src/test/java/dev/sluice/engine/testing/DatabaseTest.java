package dev.sluice.engine.testing;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;

import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A test against a database of its own: a fresh database ({@link Postgres#newDatabase}), terse SQL on it
 * ({@link Db}) and a {@link Backfill} on it, made with the test instance and closed when JUnit is done with it.
 *
 * <p>By default JUnit makes an instance, so a database, for each test. A class whose tests share one database (a
 * schema seeded once, read by every test) says {@code @TestInstance(PER_CLASS)} and seeds it in a {@code @BeforeAll}
 * of its own. A subclass's {@code @BeforeEach} and {@code @BeforeAll} run after the database is open; its
 * {@code @AfterEach} and {@code @AfterAll}, which close what it opened on it (sessions holding locks), run before the
 * database closes. The jobs module's {@code CliDatabaseTest} is the same for the command line.
 */
@ExtendWith(DatabaseTest.Closing.class)
public abstract class DatabaseTest {

    protected final HikariDataSource ds = Postgres.newDatabase();
    protected final Db db = new Db(ds);
    /** A test that needs transformers or other options puts a Backfill built with them here (closed the same). */
    protected Backfill backfill = new Backfill(ds);

    private void closeDatabase() {
        backfill.close();
        ds.close();
    }

    /** Closes the database when its test instance is done with: after each test, or after the class's last. */
    static final class Closing implements AfterEachCallback, AfterAllCallback {

        @Override
        public void afterEach(ExtensionContext context) {
            if (lifecycle(context) == TestInstance.Lifecycle.PER_METHOD) {
                ((DatabaseTest) context.getRequiredTestInstance()).closeDatabase();
            }
        }

        @Override
        public void afterAll(ExtensionContext context) {
            if (lifecycle(context) == TestInstance.Lifecycle.PER_CLASS) {
                context.getTestInstance().map(DatabaseTest.class::cast).ifPresent(DatabaseTest::closeDatabase);
            }
        }

        private static TestInstance.Lifecycle lifecycle(ExtensionContext context) {
            return context.getTestInstanceLifecycle().orElse(TestInstance.Lifecycle.PER_METHOD);
        }
    }
}
