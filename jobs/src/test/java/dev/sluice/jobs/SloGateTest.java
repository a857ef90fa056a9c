package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.sluice.engine.testing.Eventually;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code health.prometheus} against a real Prometheus server scraping a real Pushgateway (Debian's packages, as
 * {@code .ci/run} installs): the job is held while the pushed service-level value is above its maximum, with the
 * reason and the value in status and metrics, and goes on once the value drops below half of it (the gates'
 * hysteresis).
 */
class SloGateTest extends CliDatabaseTest {

    private final List<Process> servers = new ArrayList<>();

    @AfterEach
    void stopServers() throws InterruptedException {
        for (Process p : servers) {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void aJobIsHeldWhileAPrometheusQueryIsAboveItsMaximumAndGoesOnWhenTheValueDrops() throws Exception {
        Path prometheus = Installed.program("prometheus", "prometheus");
        Path gatewayProgram = Installed.program("prometheus-pushgateway", "prometheus-pushgateway");
        int gatewayPort = freePort();
        String gateway = "http://127.0.0.1:" + gatewayPort;
        servers.add(new ProcessBuilder(gatewayProgram.toString(), "--web.listen-address=127.0.0.1:" + gatewayPort)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("pushgateway.log").toFile())
                .start());
        int promPort = freePort();
        String prom = "http://127.0.0.1:" + promPort;
        Files.writeString(dir.resolve("prometheus.yml"), """
                global: { scrape_interval: 1s, evaluation_interval: 1s }
                scrape_configs:
                  - job_name: pushgateway
                    honor_labels: true
                    static_configs: [ { targets: [ "127.0.0.1:%d" ] } ]
                """.formatted(gatewayPort));
        servers.add(new ProcessBuilder(
                        prometheus.toString(),
                        "--config.file=" + dir.resolve("prometheus.yml"),
                        "--storage.tsdb.path=" + dir.resolve("tsdb"),
                        "--web.listen-address=127.0.0.1:" + promPort)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("prometheus.log").toFile())
                .start());
        Eventually.eventually(
                Duration.ofSeconds(60), "the Pushgateway ready", () -> Http.status(gateway + "/-/ready") == 200);
        Eventually.eventually(Duration.ofSeconds(60), "Prometheus ready", () -> Http.status(prom + "/-/ready") == 200);

        // The service's error ratio, as an application's exporter would show it: 9% of requests failing.
        push(gateway, 0.09);
        String query = "max(app_error_ratio)";
        Eventually.eventually(
                Duration.ofSeconds(60),
                "Prometheus sees the pushed value",
                () -> value(prom, query).equals("0.09"));

        db.exec(
                "CREATE TABLE ledger (id int PRIMARY KEY, doubled int)",
                "INSERT INTO ledger SELECT g, NULL FROM generate_series(1, 3000) g");
        writeSpec("slo", """
                table: ledger
                key: [id]
                set: { doubled: id * 2 }
                chunk: { rows: 100, max-rows: 100 }
                health: { poll: 200ms, prometheus: { url: "%s", query: "%s", max: 0.05 } }
                """.formatted(prom, query));
        int metricsPort = freePort();
        Path log = dir.resolve("slo.log");
        Process run =
                Cli.spawn(log, Map.of(), List.of(), args("run", "slo", "--metrics-port", String.valueOf(metricsPort)));
        try {
            String held = Eventually.eventually(
                    Duration.ofSeconds(90),
                    "the job held by the SLO",
                    () -> Cli.run(args("status", "slo", "--json")).out(),
                    s -> s.contains("\"state\":\"THROTTLED\"") && s.contains("health.prometheus value 0.09 > 0.05"));
            assertThat(held).contains("\"rowsProcessed\":0");
            Eventually.eventually(
                    Duration.ofSeconds(30),
                    "the signal's value and limit in the job's metrics",
                    () -> Http.body("http://127.0.0.1:" + metricsPort + "/actuator/prometheus"),
                    m -> m.contains("sluice_health_signal{backfill=\"slo\",signal=\"prometheus\"} 0.09")
                            && m.contains("sluice_health_signal_limit{backfill=\"slo\",signal=\"prometheus\"} 0.05"));
            // Under the limit but not under half of it: still held (the gates' hysteresis).
            push(gateway, 0.04);
            Eventually.eventually(
                    Duration.ofSeconds(60),
                    "held, waiting for half the limit",
                    () -> Cli.run(args("status", "slo", "--json")).out(),
                    s -> s.contains("health.prometheus value 0.04 > 0.05 (waiting for < half the limit)"));
            assertThat(db.count("SELECT count(*) FROM ledger WHERE doubled IS NOT NULL"))
                    .as("nothing written while held")
                    .isZero();
            push(gateway, 0.01);
            assertThat(run.waitFor(120, TimeUnit.SECONDS))
                    .as(Files.readString(log))
                    .isTrue();
            assertThat(run.exitValue()).as(Files.readString(log)).isZero();
        } finally {
            run.destroyForcibly();
        }
        assertThat(db.count("SELECT count(*) FROM ledger WHERE doubled IS DISTINCT FROM id * 2"))
                .isZero();
    }

    private static void push(String gateway, double value) throws IOException, InterruptedException {
        HttpResponse<String> r = Http.client()
                .send(
                        HttpRequest.newBuilder(URI.create(gateway + "/metrics/job/app"))
                                .PUT(HttpRequest.BodyPublishers.ofString("app_error_ratio " + value + "\n"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isBetween(200, 299);
    }

    /** The query's first sample value as Prometheus answers it, or "" while it has none. */
    private static String value(String prom, String query) {
        try {
            String body = Http.body(prom + "/api/v1/query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8));
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"value\":\\[[0-9.]+,\"([^\"]+)\"]")
                    .matcher(body);
            return m.find() ? m.group(1) : "";
        } catch (Exception e) {
            return "";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
