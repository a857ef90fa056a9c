package dev.sluice.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.AuditEntry;
import dev.sluice.engine.Backfill;
import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Eventually;
import dev.sluice.engine.testing.Postgres;

import io.micrometer.core.instrument.MeterRegistry;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The starter in a real Spring Boot application on embedded PostgreSQL: the scheduled jobs run, {@code
 * /actuator/sluice} reports them, a pause through the endpoint holds against the schedule, resume continues, and the
 * write operations are secured like any other Actuator write operation.
 */
@SpringBootTest(
        classes = ShopApplication.class,
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"management.endpoints.web.exposure.include=health,sluice,metrics", "sluice.schema=shop_sluice"})
class StarterTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static HikariDataSource database;

    @LocalServerPort
    int port;

    @Autowired
    Backfill backfill;

    @Autowired
    MeterRegistry meters;

    @DynamicPropertySource
    static void database(DynamicPropertyRegistry registry) {
        database = Postgres.newDatabase();
        new Db(database)
                .exec(
                        "CREATE TABLE scores (id int PRIMARY KEY, points int NOT NULL, score_x10 int)",
                        "INSERT INTO scores SELECT g, g % 97, NULL FROM generate_series(1, 40000) g",
                        "CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL, email_lower text)",
                        "INSERT INTO customers SELECT g, 'Customer' || g || '@Shop.EXAMPLE' , NULL FROM generate_series(1, 3000) g");
        registry.add("spring.datasource.url", database::getJdbcUrl);
        registry.add("spring.datasource.username", () -> "postgres");
    }

    @AfterAll
    static void close() {
        database.close();
    }

    @Test
    void scheduledJobsRunAndTheEndpointReportsPausesAndResumesThem() throws Exception {
        Db db = new Db(database);
        // The bean-declared job runs on its schedule to the end.
        Eventually.eventually(
                Duration.ofSeconds(60),
                "lower-emails COMPLETED",
                () -> "COMPLETED".equals(job("lower-emails").path("state").asString()));
        assertThat(db.count("SELECT count(*) FROM customers WHERE email_lower IS DISTINCT FROM lower(email)"))
                .isZero();

        // The file-declared one is running at its rate: the endpoint reports it.
        JsonNode running = Eventually.eventually(
                Duration.ofSeconds(60),
                "fill-scores running",
                () -> job("fill-scores"),
                j -> j.path("rowsProcessed").asLong() > 0
                        && j.path("state").asString().matches("RUNNING|THROTTLED"));
        assertThat(running.path("table").asString()).isEqualTo("scores");
        assertThat(running.path("schedule").asString()).isEqualTo("* * * * * *");
        JsonNode list = get("/actuator/sluice");
        assertThat(list.findValuesAsString("job")).contains("fill-scores", "lower-emails");

        // A write without the operator's credentials is refused, and changes nothing.
        assertThat(post("/actuator/sluice/fill-scores/pause", null).statusCode())
                .isEqualTo(401);
        assertThat(job("fill-scores").path("state").asString()).matches("RUNNING|THROTTLED");

        HttpResponse<String> paused = post("/actuator/sluice/fill-scores/pause", ShopApplication.OPERATOR_PASSWORD);
        assertThat(paused.statusCode()).as(paused.body()).isEqualTo(200);
        assertThat(job("fill-scores").path("state").asString()).isEqualTo("PAUSED");
        long rows = db.count("SELECT count(*) FROM scores WHERE score_x10 IS NOT NULL");
        // The cron fires every second: the operator's pause holds against it.
        Thread.sleep(3500);
        assertThat(job("fill-scores").path("state").asString()).isEqualTo("PAUSED");
        assertThat(db.count("SELECT count(*) FROM scores WHERE score_x10 IS NOT NULL"))
                .isEqualTo(rows);
        assertThat(rows).isLessThan(40000);

        // Tuned while paused, through the endpoint: the rest runs faster.
        HttpResponse<String> tuned = post("/actuator/sluice/fill-scores/tune/9000", ShopApplication.OPERATOR_PASSWORD);
        assertThat(tuned.statusCode()).as(tuned.body()).isEqualTo(200);
        // Status shows the rate the job resumes with, not the one it paused with.
        assertThat(job("fill-scores").path("rowsPerSecondLimit").asLong()).isEqualTo(9000);

        HttpResponse<String> resumed = post("/actuator/sluice/fill-scores/resume", ShopApplication.OPERATOR_PASSWORD);
        assertThat(resumed.statusCode()).as(resumed.body()).isEqualTo(202);
        Eventually.eventually(
                Duration.ofSeconds(30),
                "the tuned rate in force",
                () -> job("fill-scores"),
                j -> j.path("rowsPerSecondLimit").asLong() == 9000
                        || "COMPLETED".equals(j.path("state").asString()));
        JsonNode done = Eventually.eventually(
                Duration.ofSeconds(60),
                "fill-scores COMPLETED",
                () -> job("fill-scores"),
                j -> "COMPLETED".equals(j.path("state").asString()));
        assertThat(done.path("validation").path("mismatches").asLong()).isZero();
        assertThat(db.count("SELECT count(*) FROM scores WHERE score_x10 IS DISTINCT FROM points * 10"))
                .isZero();

        // The application's own settings: its schema, its MeterRegistry.
        assertThat(db.exists("shop_sluice.batch_job_instance")).isTrue();
        assertThat(db.exists("sluice.batch_job_instance")).isFalse();
        assertThat(meters.find("sluice.rows").tag("backfill", "fill-scores").counter())
                .isNotNull();
        assertThat(meters.find("sluice.rows")
                        .tag("backfill", "fill-scores")
                        .counter()
                        .count())
                .isEqualTo(40000);
        assertThat(backfill.status("fill-scores").rowsWritten()).isEqualTo(40000);

        // Who did what: the schedule started it; the operator, authenticated, paused, tuned and resumed it.
        List<AuditEntry> trail = backfill.history("fill-scores");
        assertThat(trail)
                .extracting(e ->
                        e.command() + " " + e.actor().via() + " " + e.actor().principal())
                .containsSubsequence(
                        "run schedule null", "pause actuator ops", "tune actuator ops", "resume actuator ops");
        assertThat(trail.stream()
                        .filter(e -> e.command().equals("tune"))
                        .findFirst()
                        .orElseThrow()
                        .options())
                .containsEntry("rowsPerSecond", 9000);
        assertThat(db.count("SELECT count(*) FROM shop_sluice.audit a WHERE a::text LIKE '%"
                        + ShopApplication.OPERATOR_PASSWORD + "%'"))
                .isZero();

        assertThat(get("/actuator/sluice/no-such-job", 404)).isNotNull();
        for (String verb : List.of("pause", "cancel", "resume", "tune/5")) { // unknown on every verb, as GET says
            HttpResponse<String> unknown =
                    post("/actuator/sluice/no-such-job/" + verb, ShopApplication.OPERATOR_PASSWORD);
            assertThat(unknown.statusCode()).as(verb + ": " + unknown.body()).isEqualTo(404);
            assertThat(unknown.body()).as(verb).contains("no job named no-such-job");
        }
        // A resume that cannot start anything says why, instead of claiming success.
        HttpResponse<String> notResumed =
                post("/actuator/sluice/lower-emails/resume", ShopApplication.OPERATOR_PASSWORD);
        assertThat(notResumed.statusCode()).isEqualTo(409);
        assertThat(notResumed.body()).contains("COMPLETED");
        assertThat(post("/actuator/sluice/fill-scores/explode", ShopApplication.OPERATOR_PASSWORD)
                        .statusCode())
                .isEqualTo(404);
        assertThat(post("/actuator/sluice/fill-scores/tune/fast", ShopApplication.OPERATOR_PASSWORD)
                        .statusCode())
                .isEqualTo(400);
    }

    private JsonNode job(String name) throws Exception {
        return get("/actuator/sluice/" + name);
    }

    private JsonNode get(String path) throws Exception {
        return get(path, 200);
    }

    private JsonNode get(String path, int expected) throws Exception {
        HttpResponse<String> r = HTTP.send(
                HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(expected);
        return JSON.readTree(r.body().isEmpty() ? "{}" : r.body());
    }

    private HttpResponse<String> post(String path, String password) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .POST(HttpRequest.BodyPublishers.noBody());
        if (password != null) {
            b.header(
                    "Authorization",
                    "Basic "
                            + Base64.getEncoder()
                                    .encodeToString((ShopApplication.OPERATOR + ":" + password)
                                            .getBytes(StandardCharsets.UTF_8)));
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
