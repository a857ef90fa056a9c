package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Postgres;
import dev.sluice.jobs.metrics.MetricsEndpoint;

import org.junit.jupiter.api.Test;

/** The Prometheus endpoint serves the meters DESIGN.md names, with the values of the run. */
class MetricsTest {

    @Test
    void thePrometheusEndpointExposesTheDesignNamesWithTheRunsValues() throws Exception {
        try (HikariDataSource ds = Postgres.newDatabase();
                MetricsEndpoint endpoint = MetricsEndpoint.start(0)) {
            Db db = new Db(ds);
            AtomicReference<Double> journalDuringTheRun = new AtomicReference<>(0.0);
            db.exec(
                    "CREATE TABLE m (id int PRIMARY KEY, v text)",
                    "INSERT INTO m SELECT g, NULL FROM generate_series(1, 6000) g",
                    "ANALYZE m");
            RunResult result = new Backfill(ds)
                    .run(
                            SpecParser.parse("""
                    name: metered
                    table: m
                    key: [id]
                    set: { v: md5(id::text) }
                    chunk: { rows: 500, min-rows: 500, max-rows: 500 }
                    throttle: { rows-per-second: 20000 }
                    validate:
                      - { target: v, source: md5(id::text) }
                    """),
                            RunOptions.defaults()
                                    .withMetrics(endpoint.registry())
                                    .withObserver(chunk -> {
                                        if (chunk.totalRows()
                                                == 1500) { // the journal's size is read while it grows, not only at the
                                            // end
                                            journalDuringTheRun.set(endpoint.registry()
                                                    .get("sluice.undo.bytes")
                                                    .tag("backfill", "metered")
                                                    .gauge()
                                                    .value());
                                        }
                                    }));
            assertThat(result.outcome()).isEqualTo(RunResult.Outcome.COMPLETED);
            assertThat(journalDuringTheRun.get()).isPositive();

            HttpResponse<String> scrape = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(
                                            URI.create("http://localhost:" + endpoint.port() + MetricsEndpoint.PATH))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertThat(scrape.statusCode()).isEqualTo(200);
            String text = scrape.body();
            assertThat(value(text, "sluice_rows_total{backfill=\"metered\"}")).isEqualTo(6000);
            assertThat(value(text, "sluice_chunks_total{backfill=\"metered\",outcome=\"committed\"}"))
                    .isEqualTo(12);
            assertThat(value(text, "sluice_chunk_duration_seconds_count{backfill=\"metered\"}"))
                    .isEqualTo(12);
            assertThat(text).contains("sluice_chunk_duration_seconds_bucket{backfill=\"metered\",le=");
            assertThat(value(text, "sluice_chunk_rows{backfill=\"metered\"}")).isEqualTo(500);
            assertThat(value(text, "sluice_progress_ratio{backfill=\"metered\"}"))
                    .isEqualTo(1.0);
            assertThat(value(text, "sluice_eta_seconds{backfill=\"metered\"}")).isEqualTo(0);
            assertThat(value(text, "sluice_throttle_seconds_total{backfill=\"metered\",reason=\"rate\"}"))
                    .isGreaterThan(0.1);
            assertThat(value(text, "sluice_validation_mismatches{backfill=\"metered\",rule=\"v\"}"))
                    .isEqualTo(0);
            assertThat(value(text, "sluice_job_state{backfill=\"metered\",state=\"COMPLETED\"}"))
                    .isEqualTo(1);
            assertThat(value(text, "sluice_undo_bytes{backfill=\"metered\"}")).isGreaterThan(journalDuringTheRun.get());
            assertThat(value(text, "sluice_job_state{backfill=\"metered\",state=\"RUNNING\"}"))
                    .isEqualTo(0);
            // Spring Batch's own observations are on too.
            assertThat(text).contains("spring_batch_job");
        }
    }

    private static double value(String scrape, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " ([-0-9.eE+]+)")
                .matcher(scrape);
        if (!m.find()) {
            throw new AssertionError("no series " + series + " in:\n"
                    + scrape.lines()
                            .filter(l -> l.startsWith("sluice") || l.startsWith("spring_batch"))
                            .toList());
        }
        return Double.parseDouble(m.group(1));
    }
}
