package dev.sluice.engine.chunk;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.DatabaseTest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * How many statements a chunk's transaction sends, each one a round trip to the server and back: with small chunks
 * these round trips, not the write, are most of what Sluice adds to a loop in the server. A chunk sends its
 * transaction's settings with its range query, its write with the query of the WAL it wrote, then Spring Batch's
 * checkpoint (the step's execution context and the step execution), then commits; Spring Batch's read of the job's
 * status is made at most once a second. Counted at the JDBC interface, where one {@code execute} is one round trip
 * (pgJDBC sends the statements of one text together), on the commits of a run of fixed 100-row chunks, with and
 * without the undo journal.
 */
class RoundTripsTest extends DatabaseTest {

    @Test
    @Timeout(120)
    void aChunkSendsItsSettingsWithItsRangeAndItsWalQueryWithItsWrite() throws Exception {
        db.exec(
                "CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, lower_name text)",
                "INSERT INTO items SELECT g, 'Item ' || g, NULL FROM generate_series(1, 6000) g",
                "ANALYZE items");
        for (boolean undo : new boolean[] {true, false}) {
            Counting counting = new Counting();
            try (Backfill counted = new Backfill(counting.of(ds))) {
                RunResult run = counted.run(SpecParser.parse("""
                                name: lower-%s
                                table: items
                                key: [id]
                                set: { lower_name: lower(name) || '%s' }
                                undo: %s
                                chunk: { rows: 100, min-rows: 100, max-rows: 100 }
                                """.formatted(undo, undo, undo)), RunOptions.defaults());
                assertThat(run.outcome()).as(run.message()).isEqualTo(RunResult.Outcome.COMPLETED);
            }
            assertThat(db.count("SELECT count(*) FROM items WHERE lower_name = lower(name) || '" + undo + "'"))
                    .isEqualTo(6000);
            List<Integer> perCommit = counting.perCommit();
            assertThat(perCommit).as("commits").hasSizeGreaterThan(60);
            Collections.sort(perCommit);
            // The median transaction is a chunk's (60 of them, against a handful of the run's own).
            assertThat(perCommit.get(perCommit.size() / 2))
                    .as("statements in a chunk's transaction (undo: %s): %s", undo, perCommit)
                    .isEqualTo(4);
        }
    }

    /** Counts the statements each connection executes between two commits. */
    private static final class Counting {
        private final List<Integer> perCommit = Collections.synchronizedList(new ArrayList<>());

        DataSource of(DataSource ds) {
            return proxy(
                    DataSource.class,
                    ds,
                    (method, args, result) -> result instanceof Connection c ? connection(c) : result);
        }

        private Connection connection(Connection c) {
            AtomicInteger executes = new AtomicInteger();
            return proxy(Connection.class, c, (method, args, result) -> {
                if (method.equals("commit")) {
                    perCommit.add(executes.getAndSet(0));
                } else if (method.equals("rollback")) {
                    executes.set(0);
                }
                return result instanceof Statement s ? statement(s, executes) : result;
            });
        }

        private Statement statement(Statement s, AtomicInteger executes) {
            After counting = (method, args, result) -> {
                if (method.startsWith("execute")) {
                    executes.incrementAndGet();
                }
                return result;
            };
            return s instanceof PreparedStatement ps
                    ? proxy(PreparedStatement.class, ps, counting)
                    : proxy(Statement.class, s, counting);
        }

        List<Integer> perCommit() {
            return new ArrayList<>(perCommit);
        }

        @FunctionalInterface
        private interface After {
            Object apply(String method, Object[] args, Object result);
        }

        private static <T> T proxy(Class<T> type, T target, After after) {
            return type.cast(Proxy.newProxyInstance(
                    RoundTripsTest.class.getClassLoader(), new Class<?>[] {type}, (p, method, args) -> {
                        Object result;
                        try {
                            result = method.invoke(target, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                        return after.apply(method.getName(), args, result);
                    }));
        }
    }
}
