package dev.sluice.engine.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.sluice.engine.JobStatus;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.DatabaseTest;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Installing a trigger next to a session that holds a conflicting lock (an open transaction that wrote a row): the
 * attempts wait longer each time; the application's writes, which queue behind a waiting attempt, are never held
 * up longer than that attempt's timeout; and when the lock is never free, the job fails cleanly with nothing written.
 */
class LockSafeTest extends DatabaseTest {

    // How much longer than its attempt's lock timeout a write may seem to wait, measured on a loaded machine.
    private static final long SLACK_MILLIS = 1000;

    private static final Pattern ATTEMPT = Pattern.compile("not granted within (\\d+) ms \\(attempt (\\d+) of");

    private Connection holder;

    @BeforeEach
    void lockHeldByAnotherSession() throws Exception {
        db.exec(
                "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL, v2 int)",
                "INSERT INTO t SELECT g, g FROM generate_series(1, 100) g");
        holder = ds.getConnection();
        holder.setAutoCommit(false);
        try (Statement st = holder.createStatement()) {
            st.execute("UPDATE t SET v = v WHERE id = 1"); // ROW EXCLUSIVE, held: CREATE TRIGGER must wait for it
        }
    }

    @AfterEach
    void close() throws Exception {
        holder.rollback();
        holder.close();
    }

    /** An application writing rows other than the held one, recording how long each statement took. */
    private record Write(long endNanos, long millis) {}

    private Thread application(AtomicBoolean stop, List<Write> writes) {
        Thread t = new Thread(() -> {
            try (Connection c = ds.getConnection();
                    PreparedStatement ps = c.prepareStatement("UPDATE t SET v = v + 1 WHERE id = ?")) {
                while (!stop.get()) {
                    long start = System.nanoTime();
                    ps.setInt(1, 2 + ThreadLocalRandom.current().nextInt(99));
                    ps.executeUpdate();
                    long end = System.nanoTime();
                    writes.add(new Write(end, TimeUnit.NANOSECONDS.toMillis(end - start)));
                    Thread.sleep(5);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        t.start();
        return t;
    }

    @Test
    @Timeout(60)
    void attemptsGrowAndTheApplicationWaitsNoLongerThanTheCurrentAttempt() throws Exception {
        List<Write> writes = new CopyOnWriteArrayList<>();
        List<long[]> attempts = new CopyOnWriteArrayList<>(); // {end nanos, timeout ms}
        AtomicBoolean stop = new AtomicBoolean();
        Thread app = application(stop, writes);
        LockSafe lockSafe = new LockSafe(Duration.ofMillis(100), 5, warning -> {
            Matcher m = ATTEMPT.matcher(warning);
            assertThat(m.find()).as(warning).isTrue();
            attempts.add(new long[] {System.nanoTime(), Long.parseLong(m.group(1))});
        });
        List<String> ddl = List.of(
                "CREATE TRIGGER t_noop BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()");
        assertThatThrownBy(() -> lockSafe.run(ds, "public.t", ddl))
                .isInstanceOf(LockSafe.NotGranted.class)
                .hasMessageContaining("could not lock public.t in 5 attempts")
                .hasMessageContaining("holds RowExclusiveLock");
        stop.set(true);
        app.join();

        assertThat(attempts).hasSize(4); // the fifth is the failure itself
        List<Long> timeouts = attempts.stream().map(a -> a[1]).toList();
        for (int i = 1; i < timeouts.size(); i++) {
            assertThat(timeouts.get(i)).as("timeouts %s", timeouts).isGreaterThan(timeouts.get(i - 1));
        }
        // Each write that waited ended when an attempt gave up, and waited no longer than that attempt's timeout.
        List<Write> waited =
                new ArrayList<>(writes.stream().filter(w -> w.millis() > 50).toList());
        assertThat(waited).as("application writes queued behind the attempts").isNotEmpty();
        for (Write w : waited) {
            long[] nearest = attempts.stream()
                    .min((a, b) -> Long.compare(Math.abs(a[0] - w.endNanos()), Math.abs(b[0] - w.endNanos())))
                    .orElseThrow();
            // A second of slack for a loaded machine's scheduling: a write queued behind an attempt without a timeout
            // would wait for the holder, for the whole test.
            if (Math.abs(nearest[0] - w.endNanos()) < TimeUnit.MILLISECONDS.toNanos(300)) {
                assertThat(w.millis())
                        .as("a write behind an attempt of %d ms", nearest[1])
                        .isLessThanOrEqualTo(nearest[1] + SLACK_MILLIS);
            } else {
                // behind the last attempt, whose timeout is at most 1600 ms and 20% jitter
                assertThat(w.millis()).isLessThanOrEqualTo(1600 * 12 / 10 + SLACK_MILLIS);
            }
        }
        assertThat(writes.size()).as("the application kept writing").isGreaterThan(waited.size());

        holder.rollback(); // the lock is free: the next install goes through at once
        lockSafe.run(ds, "public.t", ddl);
        assertThat(db.count("SELECT count(*) FROM pg_trigger WHERE tgname = 't_noop'"))
                .isEqualTo(1);
    }

    @Test
    @Timeout(90)
    void aJobWhoseTriggerCannotBeInstalledFailsWithItsReasonAndWritesNothing() throws Exception {
        RunResult result = backfill.run(SpecParser.parse("""
                name: locked-out
                table: t
                key: [id]
                sync: trigger
                set: { v2: v * 2 }
                """), RunOptions.defaults());
        assertThat(result.outcome()).isEqualTo(RunResult.Outcome.FAILED);
        assertThat(result.message())
                .contains("its sync trigger is not installed, so no chunk ran")
                .contains("could not lock public.t in 10 attempts")
                .contains("holds RowExclusiveLock")
                .doesNotContain("\n");
        assertThat(db.count("SELECT count(*) FROM t WHERE v2 IS NOT NULL")).isZero();
        assertThat(db.count("SELECT count(*) FROM pg_trigger WHERE tgrelid = 't'::regclass"))
                .isZero();
        assertThat(backfill.status("locked-out").state()).isEqualTo(JobStatus.State.NOT_STARTED);
    }
}
