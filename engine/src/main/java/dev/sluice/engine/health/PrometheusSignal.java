package dev.sluice.engine.health;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code health.prometheus}: a service-level signal from Prometheus, as GitLab holds its batched migrations on its
 * apdex and WAL-rate indicators. A PromQL instant query ({@code /api/v1/query}) whose value holds the job while it is
 * above {@code max}; a query answering several series is judged by its highest. Prometheus unreachable, an error, no
 * series, or a value that is not a number count as unreadable, and the gate fails closed.
 */
public final class PrometheusSignal implements Signal {

    static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final HttpClient http;
    private final URI query;
    private final double max;

    PrometheusSignal(HttpClient http, String url, String promql, double max) {
        this.http = http;
        this.query = URI.create(url.replaceFirst("/+$", "") + "/api/v1/query?query="
                + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        this.max = max;
    }

    @Override
    public String name() {
        return "health.prometheus";
    }

    @Override
    public List<Reading> read() {
        return List.of(Reading.count("health.prometheus", "value", value(), max));
    }

    /** The query's value now (the highest of its series). */
    double value() {
        HttpResponse<String> response;
        try {
            response = http.send(
                    HttpRequest.newBuilder(query)
                            .timeout(TIMEOUT)
                            .header("Accept", "application/json")
                            .GET()
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException("Prometheus does not answer: " + HttpSignal.why(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking Prometheus", e);
        }
        JsonNode body;
        try {
            body = JSON.readTree(response.body());
        } catch (JacksonException e) {
            throw new IllegalStateException("Prometheus answered HTTP " + response.statusCode() + ", not JSON");
        }
        if (!"success".equals(body.path("status").asString(""))) {
            throw new IllegalStateException("Prometheus answered HTTP " + response.statusCode() + ": "
                    + body.path("error").asString("no result"));
        }
        return highest(body.path("data"));
    }

    private static double highest(JsonNode data) {
        String type = data.path("resultType").asString("");
        JsonNode result = data.path("result");
        if (type.equals("scalar")) {
            return number(result);
        }
        if (!type.equals("vector")) {
            throw new IllegalStateException("the query answers a " + type + ", not an instant vector or a scalar");
        }
        if (result.isEmpty()) {
            throw new IllegalStateException("the query answers no series");
        }
        double highest = Double.NEGATIVE_INFINITY;
        for (JsonNode series : result) {
            highest = Math.max(highest, number(series.path("value")));
        }
        return highest;
    }

    // A sample is [time, "value"]; NaN (a ratio over nothing) is no reading.
    private static double number(JsonNode sample) {
        double v;
        try {
            v = Double.parseDouble(sample.path(1).asString(""));
        } catch (NumberFormatException e) {
            throw new IllegalStateException("the query's value is not a number: " + sample);
        }
        if (Double.isNaN(v)) {
            throw new IllegalStateException("the query's value is NaN");
        }
        return v;
    }
}
