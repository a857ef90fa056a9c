package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Internals;
import dev.sluice.engine.testing.Postgres;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

/** The shipped dashboard and alert rules parse, and every metric they query is one Sluice exports. */
class DashboardTest {

    private static final Path CONFIG = Path.of("..", "config");
    private static final Pattern METRIC = Pattern.compile("\\bsluice_[a-z_]+");

    @Test
    void everyMetricTheDashboardAndAlertsQueryIsExported() throws Exception {
        JsonNode dashboard =
                JsonMapper.builder().build().readTree(Files.readString(CONFIG.resolve("grafana/sluice.json")));
        List<String> exprs =
                dashboard.findValues("expr").stream().map(JsonNode::asString).toList();
        assertThat(exprs).hasSizeGreaterThanOrEqualTo(10);
        JsonNode alerts = new YAMLMapper().readTree(Files.readString(CONFIG.resolve("prometheus/alerts.yml")));
        List<String> rules =
                alerts.findValues("expr").stream().map(JsonNode::asString).toList();
        assertThat(rules).hasSize(4);

        Set<String> queried = new TreeSet<>();
        for (String e : exprs) {
            queried.addAll(names(e));
        }
        for (String e : rules) {
            queried.addAll(names(e));
        }
        queried.add("sluice_job_state"); // the job variable's label_values

        // The job's name travels as the label "backfill": a "job" label would be renamed "exported_job" by every
        // ordinary scrape, since Prometheus sets its own.
        String everything =
                String.join("\n", exprs) + "\n" + Files.readString(CONFIG.resolve("prometheus/alerts.yml")) + "\n"
                        + dashboard.findValues("legendFormat").stream()
                                .map(JsonNode::asString)
                                .reduce("", String::concat);
        assertThat(everything).doesNotContainPattern("\\bjob\\b").contains("backfill");

        String scrape = scrapeAfterARun();
        assertThat(scrape).contains("sluice_rows_total{backfill=\"dash\"}").doesNotContain("job=\"");
        Set<String> exported = new TreeSet<>(names(scrape));
        assertThat(exported).containsAll(queried);
        assertThat(queried)
                .contains(
                        "sluice_rows_total",
                        "sluice_chunk_duration_seconds_bucket",
                        "sluice_replica_lag_seconds",
                        "sluice_throttle_seconds_total",
                        "sluice_validation_mismatches",
                        "sluice_undo_bytes");
    }

    private static Set<String> names(String text) {
        Set<String> out = new TreeSet<>();
        Matcher m = METRIC.matcher(text);
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    /** What the metrics endpoint exports after a run with validation, and a replica reading. */
    static String scrapeAfterARun() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (HikariDataSource ds = Postgres.newDatabase()) {
            new Db(ds)
                    .exec(
                            "CREATE TABLE d (id int PRIMARY KEY, v text)",
                            "INSERT INTO d SELECT g, NULL FROM generate_series(1, 2000) g");
            new Backfill(ds).run(SpecParser.parse("""
                    name: dash
                    table: d
                    key: [id]
                    set: { v: id::text }
                    throttle: { rows-per-second: 100000 }
                    validate: [ { target: v, source: id::text } ]
                    """), RunOptions.defaults().withMetrics(registry));
        }
        // No replica streams from the test server: feed the replica gauges a reading as a poll would.
        Internals.replicaReadings(registry, "dash-replicas", "standby1", 1.5, 5, 4096, 1 << 20);
        return registry.scrape();
    }
}
