package dev.sluice.jobs.serve;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.boot.JobScheduler;
import dev.sluice.engine.Backfill;
import dev.sluice.engine.ControlRequest;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.NextStep;
import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Eventually;
import dev.sluice.engine.testing.Postgres;
import dev.sluice.jobs.cli.DatabaseOptions;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;

import picocli.CommandLine;

/** serve: scheduled runs, windows, several instances on one database, HTTP API, metrics, graceful stop. */
class ServeTest {

    @TempDir
    Path dir;

    private HikariDataSource ds;
    private Db db;
    private Backfill backfill;

    @BeforeEach
    void seed() throws Exception {
        ds = Postgres.newDatabase();
        db = new Db(ds);
        backfill = new Backfill(ds);
        db.counters("s", 20000);
        Files.createDirectories(dir.resolve("jobs"));
    }

    @AfterEach
    void close() {
        ds.close();
    }

    private void spec(String schedule, long rowsPerSecond) throws Exception {
        Files.writeString(dir.resolve("jobs/served.yml"), """
                name: served
                table: s
                key: [id]
                set: { n: n + 1 }
                chunk: { rows: 500, min-rows: 500, max-rows: 500 }
                throttle: { rows-per-second: %d }
                schedule: %s
                """.formatted(rowsPerSecond, schedule));
    }

    /** A clock the test moves by hand. */
    static final class ManualClock extends Clock {
        volatile Instant now;

        ManualClock(String instant) {
            now = Instant.parse(instant);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    private JobScheduler scheduler(Clock clock) {
        JobScheduler s = new JobScheduler(
                backfill, ServeApplication.specs(dir.resolve("jobs")), meters, DriverManager::getConnection, clock);
        s.start();
        return s;
    }

    /** Waits (a few seconds at most: the runner sets it as it ends) until the state gauge shows {@code state}. */
    private void awaitState(String state) {
        Eventually.eventually(
                Duration.ofSeconds(10),
                "the state gauge at " + state,
                () -> gauge("sluice.job.state", "backfill", "served", "state", state) == 1);
    }

    private double gauge(String name, String... tags) {
        return meters.get(name).tags(tags).gauge().value();
    }

    private JobStatus await(Predicate<JobStatus> condition, String what) {
        return Eventually.eventually(
                java.time.Duration.ofSeconds(90), what, () -> backfill.status("served"), condition);
    }

    /**
     * The job's cron fires, a few times, now: what the real one does every second, without waiting seconds for it.
     * Each fire decides on the caller's thread whether to start a runner, and a runner it starts is in
     * {@code running()} before it returns; so once this instance's last runner is gone, none may appear.
     */
    private static void cronFiresAndStartsNothing(JobScheduler scheduler) {
        Eventually.eventually(
                java.time.Duration.ofSeconds(10),
                "this instance's last runner gone",
                () -> !scheduler.running().containsKey("served"));
        for (int fired = 0; fired < 3; fired++) {
            scheduler.fire(scheduler.spec("served"));
            assertThat(scheduler.running())
                    .as("the cron fired and started nothing")
                    .doesNotContainKey("served");
        }
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aWindowClosingPausesTheJobAndItsOpeningResumesIt() throws Exception {
        spec("{ cron: \"* * * * * *\", window: \"01:00-02:00 UTC\" }", 4000);
        ManualClock clock = new ManualClock("2026-11-23T01:30:00Z");
        try (JobScheduler scheduler = scheduler(clock)) {
            await(s -> s.chunks() >= 2, "running");
            clock.now = Instant.parse("2026-11-23T02:30:00Z"); // the window closes
            JobStatus paused = await(s -> s.state() == JobStatus.State.PAUSED, "paused");
            cronFiresAndStartsNothing(scheduler); // outside the window
            assertThat(backfill.status("served").chunks()).isEqualTo(paused.chunks());
            assertThat(db.count("SELECT count(*) FROM s WHERE n = 1")).isEqualTo(paused.rowsProcessed());

            clock.now = Instant.parse("2026-11-24T01:05:00Z"); // the next day's window opens
            await(s -> s.state() == JobStatus.State.COMPLETED, "completed");
            // The meters of the resumed run are the ones Prometheus reads: none froze at the first run's values.
            awaitState("COMPLETED");
            assertThat(gauge("sluice.progress.ratio", "backfill", "served")).isEqualTo(1.0);
            assertThat(gauge("sluice.eta", "backfill", "served")).isEqualTo(0.0);
            assertThat(gauge("sluice.job.state", "backfill", "served", "state", "COMPLETED"))
                    .isEqualTo(1.0);
            assertThat(meters.get("sluice.rows")
                            .tags("backfill", "served")
                            .counter()
                            .count())
                    .isEqualTo(20000);
        }
        assertThat(db.count("SELECT count(*) FROM s WHERE n <> 1")).isZero();
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void anOperatorsPauseHoldsWhileTheWindowIsOpenUntilAnOperatorResumes() throws Exception {
        spec("{ cron: \"* * * * * *\", window: \"01:00-02:00 UTC\" }", 3000);
        ManualClock clock = new ManualClock("2026-11-23T01:30:00Z");
        try (JobScheduler scheduler = scheduler(clock)) {
            await(s -> s.chunks() >= 2, "running");
            Backfill.ControlResult pause =
                    backfill.control("served", ControlRequest.pause(), java.time.Duration.ofSeconds(20), "test");
            assertThat(pause.message()).endsWith("now PAUSED");
            assertThat(pause.next()).isEqualTo(new NextStep(NextStep.Action.RESUME, "served"));
            JobStatus paused = await(s -> s.state() == JobStatus.State.PAUSED && !s.running(), "paused");
            assertThat(paused.stopReason()).isEqualTo(dev.sluice.engine.StopSignal.PAUSE);
            cronFiresAndStartsNothing(scheduler); // inside the open window: the pause holds
            JobStatus still = backfill.status("served");
            assertThat(still.state()).isEqualTo(JobStatus.State.PAUSED);
            assertThat(still.chunks()).isEqualTo(paused.chunks());
            assertThat(gauge("sluice.job.state", "backfill", "served", "state", "PAUSED"))
                    .isEqualTo(1.0);

            scheduler.resume(scheduler.specs().get(0)); // an operator's resume
            await(s -> s.state() == JobStatus.State.COMPLETED, "completed");
        }
        assertThat(db.count("SELECT count(*) FROM s WHERE n <> 1")).isZero();
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aCancelledJobIsCancelledInItsStateGauge() throws Exception {
        spec("{ cron: \"* * * * * *\" }", 3000);
        try (JobScheduler scheduler = scheduler(Clock.systemUTC())) {
            await(s -> s.chunks() >= 2, "running");
            Backfill.ControlResult cancel =
                    backfill.control("served", ControlRequest.cancel(), java.time.Duration.ofSeconds(20), "test");
            assertThat(cancel.message()).endsWith("now CANCELLED");
            assertThat(cancel.next()).isEqualTo(new NextStep(NextStep.Action.START_OVER, "served"));
            awaitState("CANCELLED");
            assertThat(gauge("sluice.job.state", "backfill", "served", "state", "STOPPED"))
                    .isEqualTo(0.0);
            cronFiresAndStartsNothing(scheduler); // cancelled stays cancelled
            assertThat(backfill.status("served").state()).isEqualTo(JobStatus.State.CANCELLED);
        }
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void twoInstancesOnOneDatabaseRunAScheduledJobOnceAndAStoppedInstancesJobIsPickedUp() throws Exception {
        spec("{ cron: \"* * * * * *\" }", 5000);
        Clock clock = Clock.systemUTC();
        JobScheduler first = scheduler(clock);
        try (JobScheduler second = scheduler(clock)) {
            await(s -> s.chunks() >= 4, "running");
            // One instance shuts down gracefully: its chunk finishes, the job is STOPPED; the other picks it up.
            first.close();
            await(s -> s.state() == JobStatus.State.COMPLETED, "completed");
        }
        assertThat(db.count("SELECT count(*) FROM s WHERE n <> 1"))
                .as("every row applied exactly once")
                .isZero();
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aPauseThroughTheApiRepliesPausedAndHoldsAgainstTheCronUntilResumedThroughTheApi() throws Exception {
        spec("{ cron: \"* * * * * *\" }", 3000);
        ConfigurableApplicationContext app = serve();
        try {
            String base = base(app);
            await(s -> s.chunks() >= 2 && s.running(), "running");
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> pause = post(http, base + "/api/jobs/served/pause");
            assertThat(pause.statusCode()).as(pause.body()).isEqualTo(200);
            assertThat(pause.body()).contains("now PAUSED");
            JobStatus paused = await(s -> s.state() == JobStatus.State.PAUSED && !s.running(), "paused");
            cronFiresAndStartsNothing(app.getBean(JobScheduler.class));
            assertThat(backfill.status("served").chunks())
                    .as("the cron did not resume it")
                    .isEqualTo(paused.chunks());

            HttpResponse<String> resume = post(http, base + "/api/jobs/served/resume");
            assertThat(resume.statusCode()).as(resume.body()).isEqualTo(202);
            await(s -> s.state() == JobStatus.State.COMPLETED, "completed");
        } finally {
            app.close();
        }
        assertThat(db.count("SELECT count(*) FROM s WHERE n <> 1")).isZero();
    }

    /** serve on this test's database and config, on a free port, with the token "s3cret". */
    private ConfigurableApplicationContext serve() {
        DatabaseOptions options = new DatabaseOptions();
        new CommandLine(options)
                .parseArgs("--jdbc-url", ds.getJdbcUrl(), "--user", "postgres", "--config", dir.toString());
        return ServeCommand.start(options, 0, "s3cret");
    }

    private static String base(ConfigurableApplicationContext app) {
        return "http://localhost:" + app.getEnvironment().getProperty("local.server.port");
    }

    private static HttpResponse<String> getWithToken(HttpClient http, String url) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(url))
                        .header("Authorization", "Bearer s3cret")
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(HttpClient http, String url) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(url))
                        .header("Authorization", "Bearer s3cret")
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void servesTheApiTheStatusPageAndPrometheusAndGuardsControlWithAToken() throws Exception {
        spec("{ cron: \"* * * * * *\" }", 20000);
        ConfigurableApplicationContext app = serve();
        try {
            String base = base(app);
            await(s -> s.state() == JobStatus.State.COMPLETED, "completed");
            HttpClient http = HttpClient.newHttpClient();
            String jobs = http.send(
                            HttpRequest.newBuilder(URI.create(base + "/api/jobs"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
            assertThat(jobs)
                    .contains("\"job\":\"served\"")
                    .contains("\"state\":\"COMPLETED\"")
                    .contains("\"rowsProcessed\":20000");
            String page = http.send(
                            HttpRequest.newBuilder(URI.create(base + "/")).build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
            assertThat(page).contains("<title>Sluice</title>");
            String metrics = http.send(
                            HttpRequest.newBuilder(URI.create(base + "/actuator/prometheus"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
            assertThat(metrics).contains("sluice_rows_total{backfill=\"served\"} 20000");
            HttpResponse<String> noToken = http.send(
                    HttpRequest.newBuilder(URI.create(base + "/api/jobs/served/pause"))
                            .POST(HttpRequest.BodyPublishers.noBody())
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(noToken.statusCode()).isEqualTo(401);
            HttpResponse<String> withToken = http.send(
                    HttpRequest.newBuilder(URI.create(base + "/api/jobs/served/pause"))
                            .header("Authorization", "Bearer s3cret")
                            .POST(HttpRequest.BodyPublishers.noBody())
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(withToken.statusCode()).as(withToken.body()).isEqualTo(409); // completed: nothing to pause
            assertThat(withToken.body()).contains("not running");
            // Both are in the job's audit trail: the scheduled run by the schedule of this process, the refused pause
            // by the token's principal (a digest, never the token) from the address the request came from.
            String audit = getWithToken(http, base + "/api/jobs/served/audit").body();
            assertThat(audit)
                    .contains("\"command\":\"run\"")
                    .contains("\"via\":\"schedule\"")
                    .contains("\"outcome\":\"completed\"")
                    .containsPattern(
                            "\"command\":\"pause\",\"options\":\\{},\"via\":\"api\",\"osUser\":\"[^\"]+\",\"host\":"
                                    + "[^,]+,\"principal\":\"token:[0-9a-f]{8}\",\"origin\":\"127.0.0.1\"")
                    .contains("\"outcome\":\"refused\"")
                    .doesNotContain("s3cret");
            // It names people and addresses: not without the token; the last N on asking.
            assertThat(http.send(
                                    HttpRequest.newBuilder(URI.create(base + "/api/jobs/served/audit"))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString())
                            .statusCode())
                    .isEqualTo(401);
            String last =
                    getWithToken(http, base + "/api/jobs/served/audit?limit=1").body();
            assertThat(last).contains("\"command\":\"pause\"").doesNotContain("\"command\":\"run\"");
            assertThat(jobs).contains("\"runnerPid\":null");
            // A job nobody knows is 404 on every verb, with a message; a parameter of the wrong kind is 400 naming it.
            HttpResponse<String> unknown = http.send(
                    HttpRequest.newBuilder(URI.create(base + "/api/jobs/nope")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(unknown.statusCode()).isEqualTo(404);
            assertThat(unknown.body()).contains("no job named nope");
            for (String verb : List.of("pause", "resume", "cancel", "tune?rowsPerSecond=5", "stop")) {
                HttpResponse<String> r = post(http, base + "/api/jobs/nope/" + verb);
                assertThat(r.statusCode()).as(verb + ": " + r.body()).isEqualTo(404);
                assertThat(r.body()).as(verb).contains("no job named nope");
            }
            for (String rate : List.of("abc", "99999999999999999999", "1.5")) {
                HttpResponse<String> r = post(http, base + "/api/jobs/served/tune?rowsPerSecond=" + rate);
                assertThat(r.statusCode()).as(rate).isEqualTo(400);
                assertThat(r.body())
                        .as(rate)
                        .contains("rowsPerSecond: a whole number, 0 or more")
                        .contains("got '" + rate + "'");
            }
            HttpResponse<String> negative = post(http, base + "/api/jobs/served/tune?rowsPerSecond=-3");
            assertThat(negative.statusCode()).isEqualTo(400);
            assertThat(negative.body())
                    .contains("rowsPerSecond: a whole number, 0 or more")
                    .contains("got -3");
        } finally {
            app.close();
        }
        List<JobStatus> all = backfill.statuses();
        assertThat(all).extracting(JobStatus::job).containsExactly("served");
    }
}
