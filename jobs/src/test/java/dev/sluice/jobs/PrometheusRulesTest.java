package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The alert rules and the dashboard, through Prometheus's own tool: {@code promtool check rules}, the rules' unit
 * tests ({@code config/prometheus/alerts.test.yml}: each alert fires and stays quiet where it should), and every
 * dashboard query evaluated by promtool over the series a real run exports, as an ordinary scrape labels them.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class PrometheusRulesTest {

    private static final Path PROMETHEUS =
            Path.of("..", "config", "prometheus").toAbsolutePath().normalize();
    private static final Path DASHBOARD =
            Path.of("..", "config", "grafana", "sluice.json").toAbsolutePath().normalize();

    private static Path promtool;

    @TempDir
    Path dir;

    @BeforeAll
    static void promtool() {
        promtool = Installed.program("promtool", "prometheus");
    }

    @Test
    void theAlertRulesAreValid() throws Exception {
        Installed.Ran r = Installed.run(PROMETHEUS, promtool.toString(), "check", "rules", "alerts.yml");
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("SUCCESS: 4 rules found");
    }

    @Test
    void eachAlertFiresAndStaysQuietAsItsUnitTestsSay() throws Exception {
        Installed.Ran r = Installed.run(PROMETHEUS, promtool.toString(), "test", "rules", "alerts.test.yml");
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("SUCCESS");
    }

    @Test
    void everyDashboardQueryReturnsSeriesFromWhatARunExports() throws Exception {
        JsonNode dashboard = JsonMapper.builder().build().readTree(Files.readString(DASHBOARD));
        List<String> exprs =
                dashboard.findValues("expr").stream().map(JsonNode::asString).toList();
        assertThat(exprs).hasSizeGreaterThanOrEqualTo(10);
        String scrape = DashboardTest.scrapeAfterARun();

        StringBuilder test = new StringBuilder("""
                rule_files: []
                evaluation_interval: 1m
                tests:
                  - interval: 1m
                    input_series:
                """);
        // An ordinary scrape adds the target's job and instance labels; Sluice's own label is "backfill", so
        // nothing of Sluice's is renamed to exported_job.
        test.append(PromSeries.inputSeries(scrape, "job=\"sluice\",instance=\"runner:9400\"", 30));
        test.append("    promql_expr_test:\n");
        for (String expr : exprs) {
            String query = expr.replace("$backfill", "dash.*").replace("$__rate_interval", "5m");
            // Any series at all: a query whose metric or label is not exported returns none, and fails here.
            test.append("      - expr: ")
                    .append(PromSeries.quoted("count(" + query + ") > bool 0"))
                    .append('\n')
                    .append(
                            "        eval_time: 20m\n        exp_samples:\n          - labels: '{}'\n            value: 1\n");
        }
        Files.writeString(dir.resolve("dashboard.test.yml"), test);
        Installed.Ran r = Installed.run(dir, promtool.toString(), "test", "rules", "dashboard.test.yml");
        assertThat(r.exitCode()).as(r.output()).isZero();
    }
}
