package dev.sluice.engine.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.net.httpserver.HttpServer;

import dev.sluice.engine.JobStatus;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.DatabaseTest;
import dev.sluice.engine.testing.Eventually;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The gates on what the database is doing besides the backfill, each against real sessions: a real {@code VACUUM}
 * of the table (slowed down so that it lasts), active application sessions, and an operator's query. Each holds the
 * job (THROTTLED, no chunk commits, the reason in status) and lets it go once the condition ends.
 */
class HealthSignalsTest extends DatabaseTest {

    private final List<Connection> sessions = new ArrayList<>();

    @BeforeEach
    void database() {
        db.exec(
                "CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL DEFAULT 0, pad text)",
                "INSERT INTO t (id, pad) SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g",
                "ANALYZE t");
    }

    @AfterEach
    void close() throws Exception {
        for (Connection c : sessions) {
            c.close();
        }
    }

    private CompletableFuture<RunResult> start(String health) {
        return start("""
                name: inc
                table: t
                key: [id]
                set: { n: n + 1 }
                health: { poll: 100ms, %s }
                """.formatted(health), RunOptions.defaults());
    }

    /** A job with {@code sql} as its health query. */
    private static JobSpec withQuery(String sql) {
        return SpecParser.parse("""
                name: probed
                table: t
                key: [id]
                set: { n: n + 1 }
                health: { query: { sql: "%s" } }
                """.formatted(sql.replace("\"", "\\\"")));
    }

    /** Runs the job {@code spec} describes in the background. */
    private CompletableFuture<RunResult> start(String spec, RunOptions options) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return backfill.run(SpecParser.parse(spec), options);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** The job is held: THROTTLED with a reason that says each of {@code reason}, and no chunk commits for a while. */
    private void held(String... reason) throws Exception {
        JobStatus s = Eventually.eventually(
                Duration.ofSeconds(30),
                "the job held: " + String.join("...", reason),
                () -> backfill.status("inc"),
                x -> x.state() == JobStatus.State.THROTTLED
                        && Arrays.stream(reason).allMatch(x.throttleReason()::contains));
        Thread.sleep(700);
        JobStatus later = backfill.status("inc");
        assertThat(later.state()).isEqualTo(JobStatus.State.THROTTLED);
        assertThat(later.chunks()).as("no chunk while held").isEqualTo(s.chunks());
    }

    private static void completes(CompletableFuture<RunResult> run) throws Exception {
        RunResult r = run.get(60, TimeUnit.SECONDS);
        assertThat(r.outcome()).as(r.message()).isEqualTo(RunResult.Outcome.COMPLETED);
    }

    /** An application's session (a connection of its own), running {@code sql} in the background; returns its pid. */
    private int inBackground(String... sql) throws Exception {
        Connection c = DriverManager.getConnection(
                ds.getJdbcUrl() + (ds.getJdbcUrl().contains("?") ? "&" : "?") + "ApplicationName=app",
                ds.getUsername(),
                ds.getPassword());
        sessions.add(c);
        int pid;
        try (Statement st = c.createStatement();
                var rs = st.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            pid = rs.getInt(1);
        }
        Thread session = new Thread(
                () -> {
                    try (Statement st = c.createStatement()) {
                        for (String s : sql) {
                            st.execute(s);
                        }
                    } catch (Exception e) {
                        // cancelled by the test
                    }
                },
                "app-session-" + pid);
        session.setDaemon(true);
        session.start();
        return pid;
    }

    @Test
    @Timeout(120)
    void aRealVacuumOfTheTableHoldsTheJobUntilItEnds() throws Exception {
        // Slowed to a page per 100 ms, the vacuum of this table's ~700 pages lasts over a minute.
        int vacuum = inBackground("SET vacuum_cost_delay = 100", "SET vacuum_cost_limit = 1", "VACUUM t");
        Eventually.eventually(
                Duration.ofSeconds(30),
                "the vacuum running",
                () -> db.count("SELECT count(*) FROM pg_stat_progress_vacuum WHERE relid = 't'::regclass") > 0);
        CompletableFuture<RunResult> run = start("autovacuum: true");
        held("vacuums running");
        db.exec("SELECT pg_cancel_backend(" + vacuum + ")");
        completes(run);
        assertThat(db.count("SELECT count(*) FROM t WHERE n <> 1")).isZero();
    }

    @Test
    @Timeout(120)
    void withoutTheAutovacuumSignalAVacuumDoesNotHoldTheJob() throws Exception {
        int vacuum = inBackground("SET vacuum_cost_delay = 100", "SET vacuum_cost_limit = 1", "VACUUM t");
        Eventually.eventually(
                Duration.ofSeconds(30),
                "the vacuum running",
                () -> db.count("SELECT count(*) FROM pg_stat_progress_vacuum WHERE relid = 't'::regclass") > 0);
        completes(start("autovacuum: false"));
        db.exec("SELECT pg_cancel_backend(" + vacuum + ")");
    }

    @Test
    @Timeout(120)
    void activeSessionsOverTheMaximumHoldTheJob() throws Exception {
        int first = inBackground("SELECT pg_sleep(60)");
        int second = inBackground("SELECT pg_sleep(60)");
        Eventually.eventually(
                Duration.ofSeconds(30),
                "two sessions active",
                () -> db.count(
                                "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'")
                        == 2);
        CompletableFuture<RunResult> run = start("active-sessions: { max: 1 }");
        // The two sleeping sessions at least; a moment's other session (the test's own status read, a runner's
        // bookkeeping) may be active as the gate samples.
        held("active sessions ", " > 1");
        db.exec("SELECT pg_cancel_backend(" + first + ")", "SELECT pg_cancel_backend(" + second + ")");
        completes(run);
    }

    @Test
    @Timeout(120)
    void anOperatorsQueryGateClosesAndOpens() throws Exception {
        db.exec("CREATE TABLE queue (depth int)", "INSERT INTO queue VALUES (7)");
        CompletableFuture<RunResult> run = start("query: { sql: \"SELECT depth FROM queue\", max: 5 }");
        held("health.query value 7 > 5");
        db.exec("UPDATE queue SET depth = 4"); // under the limit, not under half of it: still held (hysteresis)
        held("health.query value 4 > 5 (waiting for < half the limit)");
        db.exec("UPDATE queue SET depth = 0");
        completes(run);
        assertThat(db.count("SELECT count(*) FROM t WHERE n <> 1")).isZero();
    }

    /**
     * gh-ost's throttle endpoint: a real HTTP server on loopback. Down (nothing listens) holds the job as unreadable,
     * 503 holds it, 2xx lets it run; its answer is in status and in its gauge.
     */
    @Test
    @Timeout(120)
    void anHttpThrottleEndpointHoldsTheJobWhileItIsDownOrAnswersOtherThan2xx() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        CompletableFuture<RunResult> run =
                start("""
                name: inc
                table: t
                key: [id]
                set: { n: n + 1 }
                health: { poll: 100ms, http: { url: "http://127.0.0.1:%d/throttle" } }
                """.formatted(port), RunOptions.defaults().withMetrics(meters));
        held("cannot read health.http", "no answer from http://127.0.0.1:" + port + "/throttle");
        AtomicInteger answer = new AtomicInteger(503);
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
        server.createContext("/throttle", exchange -> {
            exchange.sendResponseHeaders(answer.get(), -1);
            exchange.close();
        });
        server.start();
        try {
            held("health.http answered HTTP 503");
            assertThat(meters.get("sluice.health.signal")
                            .tag("signal", "http")
                            .gauge()
                            .value())
                    .isEqualTo(503);
            answer.set(204);
            completes(run);
        } finally {
            server.stop(0);
        }
        assertThat(db.count("SELECT count(*) FROM t WHERE n <> 1")).isZero();
    }

    @Test
    @Timeout(120)
    void anApplicationSessionBlockedOnARunningChunkMakesTheChunksShrinkAndWaitsNoLongerThanOneChunk() throws Exception {
        // Slow chunks: each row's expression sleeps, so a chunk of 2,000 rows holds its row locks for about a second.
        db.exec("""
                CREATE FUNCTION slow_inc(n int) RETURNS int LANGUAGE plpgsql VOLATILE AS $$
                BEGIN PERFORM pg_sleep(0.0004); RETURN n + 1; END $$""");
        List<dev.sluice.engine.ChunkReport> chunks = java.util.Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<RunResult> run = start("""
                name: inc
                table: t
                key: [id]
                set: { n: slow_inc(n) }
                chunk: { rows: 2000, min-rows: 20, max-rows: 2000, target: 5s }
                health: { lock-waiters: { max-wait: 200ms } }
                """, RunOptions.defaults().withObserver(chunks::add));
        Eventually.eventually(Duration.ofSeconds(30), "two chunks", () -> chunks.size() >= 2);
        // The application updates a row just past the checkpoint: the running chunk has locked it, or soon will.
        long longest = 0;
        try (Connection app = DriverManager.getConnection(ds.getJdbcUrl(), ds.getUsername(), ds.getPassword());
                Statement st = app.createStatement()) {
            for (int i = 0; i < 3; i++) {
                long key = Long.parseLong(backfill.status("inc").lastKey().get(0)) + 5;
                long started = System.nanoTime();
                st.executeUpdate("UPDATE t SET pad = 'app' WHERE id = " + key);
                longest = Math.max(longest, (System.nanoTime() - started) / 1_000_000);
                Thread.sleep(300);
            }
        }
        completes(run);
        assertThat(db.count("SELECT count(*) FROM t WHERE n <> 1")).isZero();
        assertThat(longest).as("the application waited on a chunk").isGreaterThan(200);
        // About one chunk, as long as chunks take on this machine now (a loaded one runs them slower): a session left
        // waiting behind chunk after chunk would wait several.
        long longestChunk =
                chunks.stream().mapToLong(r -> r.nanos() / 1_000_000).max().orElseThrow();
        assertThat(longest)
                .as("and no longer than about one chunk (the longest took %d ms)", longestChunk)
                .isLessThan(longestChunk * 3 / 2 + 500);
        boolean shrank = false;
        for (int i = 0; i + 2 < chunks.size(); i++) { // the last chunk is whatever remained: not a sign
            shrank |= chunks.get(i + 1).range().rows() * 10
                    <= chunks.get(i).range().rows();
        }
        assertThat(shrank)
                .as("a chunk after the wait a tenth of the one before: "
                        + chunks.stream().map(r -> r.range().rows()).toList())
                .isTrue();
    }

    @Test
    @Timeout(120)
    void aSignalThatCannotBeReadHoldsTheJobFromItsFirstFailedRead() throws Exception {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        // Read every poll; preflight only plans it, so it fails at the first read after the flag is set.
        db.exec("CREATE TABLE queue_link (broken boolean NOT NULL)", "INSERT INTO queue_link VALUES (false)", """
                CREATE FUNCTION queue_depth() RETURNS int LANGUAGE plpgsql STABLE AS $$
                BEGIN
                  IF (SELECT broken FROM queue_link) THEN RAISE EXCEPTION 'queue unreachable'; END IF;
                  RETURN 0;
                END $$""");
        CompletableFuture<RunResult> run = start("""
                name: inc
                table: t
                key: [id]
                set: { n: n + 1 }
                throttle: { rows-per-second: 1000 }
                health: { poll: 100ms, query: { sql: "SELECT queue_depth()", max: 5 } }
                """, RunOptions.defaults().withMetrics(meters));
        Eventually.eventually(
                Duration.ofSeconds(30),
                "chunks committed",
                () -> backfill.status("inc").chunks() > 2);
        db.exec("UPDATE queue_link SET broken = true");
        long atFailure = backfill.status("inc").rowsProcessed();
        JobStatus blind = Eventually.eventually(
                Duration.ofSeconds(30),
                "held by the unreadable signal",
                () -> backfill.status("inc"),
                x -> x.state() == JobStatus.State.THROTTLED
                        && x.throttleReason() != null
                        && x.throttleReason().contains("cannot read health.query"));
        assertThat(blind.throttleReason()).contains("queue unreachable");
        // At most the chunk in flight and one more (each at most a second of the rate): not ten seconds' worth.
        assertThat(blind.rowsProcessed() - atFailure)
                .as("rows written once the signal could not be read")
                .isLessThanOrEqualTo(2000);
        held("cannot read health.query");
        db.exec("UPDATE queue_link SET broken = false");
        completes(run);
        assertThat(db.count("SELECT count(*) FROM t WHERE n <> 1")).isZero();
        assertThat(meters.get("sluice.throttle")
                        .tag("reason", "unreadable")
                        .counter()
                        .count())
                .as("the wait counted as unreadable")
                .isGreaterThan(0);
    }

    @Test
    void aQueryThatReturnsNoNumberOrActsIsRefusedBeforeAnythingIsWritten() throws Exception {
        int victim = inBackground(); // an idle session, which pg_terminate_backend would end
        db.exec(
                "CREATE EXTENSION IF NOT EXISTS dblink",
                "CREATE TABLE flags (v text, ok boolean)",
                "CREATE SEQUENCE polls",
                "CREATE VIEW kills AS SELECT pg_terminate_backend(" + victim + ")::int AS k",
                "CREATE FUNCTION bump() RETURNS int LANGUAGE sql VOLATILE AS 'SELECT nextval(''polls'')::int'",
                "CREATE FUNCTION plus_bump(int, int) RETURNS int LANGUAGE sql VOLATILE AS 'SELECT $1 + $2 + bump()'",
                "CREATE OPERATOR #+# (LEFTARG = int, RIGHTARG = int, FUNCTION = plus_bump)");
        Map<String, String> refused = new LinkedHashMap<>();
        refused.put("SELECT 'many'", "returns text, not a number");
        refused.put("SELECT '12'", "returns text, not a number");
        refused.put("SELECT v FROM flags LIMIT 1", "returns text, not a number");
        refused.put("SELECT ok FROM flags LIMIT 1", "returns boolean, not a number");
        refused.put("SELECT now()", "returns timestamp with time zone, not a number");
        refused.put(
                "SELECT pg_terminate_backend(" + victim + ")::int",
                "calls pg_terminate_backend, which PostgreSQL" + " classifies as VOLATILE");
        refused.put("SELECT count(*) FROM dblink('dbname=x', 'DELETE FROM t') AS d(n int)", "calls public.dblink");
        refused.put("SELECT random() * 10", "calls random");
        refused.put("SELECT nextval('polls')", "calls nextval");
        refused.put("SELECT pg_try_advisory_lock(1)::int", "calls pg_try_advisory_lock");
        refused.put("SELECT k FROM kills", "calls pg_terminate_backend");
        refused.put("SELECT bump()", "calls public.bump");
        refused.put("SELECT 1 #+# 2", "calls public.plus_bump");
        refused.put("SELECT length(set_config('statement_timeout', '0', false))", "calls set_config");
        refused.put("SELECT (SELECT n FROM t WHERE id = 1 FOR UPDATE)", "locks rows");
        refused.put(
                "SELECT count(*) FROM dblink('host=db2 user=ops password=hunter22', 'SELECT 1') AS d(n int)",
                "must not carry a password");
        refused.put(
                "SELECT count(*) FROM dblink('postgresql://ops:hunter22@db2/app', 'SELECT 1') AS d(n int)",
                "must not carry a password");
        for (Map.Entry<String, String> c : refused.entrySet()) {
            assertThatThrownBy(() -> backfill.run(withQuery(c.getKey()), RunOptions.defaults()))
                    .as(c.getKey())
                    .isInstanceOf(SpecException.class)
                    .hasMessageStartingWith("health.query.sql: ")
                    .hasMessageContaining(c.getValue())
                    .hasMessageNotContaining("hunter22");
        }
        assertThat(db.count("SELECT count(*) FROM t WHERE n <> 0")).isZero();
        assertThat(db.count("SELECT count(*) FROM pg_stat_activity WHERE pid = " + victim))
                .as("nobody terminated")
                .isOne();
        assertThat(db.count("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"))
                .isZero();
        assertThat(db.count("SELECT last_value FROM polls"))
                .as("the sequence never advanced")
                .isOne();
        assertThat(db.count("SELECT count(*) FROM polls WHERE is_called")).isZero();
        assertThat(db.exists("sluice.batch_job_instance")).as("no job record").isFalse();
        // Numbers of any numeric type, from STABLE and IMMUTABLE functions, are signals.
        for (String sql : List.of(
                "SELECT count(*) FROM t WHERE n > 5",
                "SELECT extract(epoch FROM now())::numeric * 0",
                "SELECT max(length(v))::float4 FROM flags")) {
            backfill.plan(withQuery(sql));
        }
    }

    @Test
    void aQueryThatIsNotOneNumberIsRefusedBeforeAnythingIsWritten() {
        for (String sql : List.of(
                "SELECT 1; DELETE FROM t",
                "SELECT now()",
                "SELECT no_such_column FROM t",
                "WITH d AS (DELETE FROM t RETURNING id) SELECT count(*) FROM d")) {
            assertThatThrownBy(() -> backfill.run(withQuery(sql), RunOptions.defaults()))
                    .as(sql)
                    .isInstanceOf(SpecException.class)
                    .hasMessageContaining("health.query.sql");
        }
        assertThat(db.count("SELECT count(*) FROM t WHERE n <> 0")).isZero();
        assertThat(db.count("SELECT count(*) FROM t")).isEqualTo(20000);
    }
}
