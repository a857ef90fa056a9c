package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.sluice.engine.testing.Eventually;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A run outside {@code serve} pushes its final state to a real Prometheus Pushgateway, and the failed-job alert
 * fires on what the gateway then exposes (promtool evaluating the shipped rules over it).
 */
class PushGatewayTest extends CliDatabaseTest {

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void aFailedCliRunIsPushedAndTheFailedJobAlertFiresOnIt() throws Exception {
        Path gatewayProgram = Installed.program("prometheus-pushgateway", "prometheus-pushgateway");
        Path promtool = Installed.program("promtool", "prometheus");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Process gateway = new ProcessBuilder(gatewayProgram.toString(), "--web.listen-address=127.0.0.1:" + port)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("pushgateway.log").toFile())
                .start();
        try {
            String url = "http://127.0.0.1:" + port;
            Eventually.eventually(
                    Duration.ofSeconds(30), "the Pushgateway ready", () -> Http.status(url + "/-/ready") == 200);

            db.exec(
                    "CREATE TABLE ledger (id int PRIMARY KEY, ratio text)",
                    "INSERT INTO ledger SELECT g, NULL FROM generate_series(1, 3000) g");
            writeSpec("doomed", """
                    table: ledger
                    key: [id]
                    set: { ratio: (100 / (id - 2500))::text }
                    chunk: { rows: 500 }
                    """);
            writeSpec("fine", """
                    table: ledger
                    key: [id]
                    set: { ratio: (id * 2)::text }
                    throttle: { rows-per-second: 200 }
                    chunk: { rows: 100, max-rows: 100 }
                    """);
            Cli.Result failed = Cli.run(args("run", "doomed", "--push-gateway", url));
            assertThat(failed.exitCode()).as(failed.out() + failed.err()).isEqualTo(1);
            // A CLI run shows while it runs, not only when it ends. It pushes a second after it starts, then every
            // ten seconds: the run lasts 15 s, so that a push lands inside it even when a loaded machine starts the
            // JVM too late for the first one.
            Path log = dir.resolve("fine.log");
            Process fine =
                    Cli.spawn(log, Map.of(), List.of(), args("run", "fine", "--push-gateway", "127.0.0.1:" + port));
            Eventually.eventually(
                    Duration.ofSeconds(60),
                    "fine RUNNING at the gateway",
                    () -> Http.body(url + "/metrics")
                            .matches(
                                    "(?s).*sluice_job_state\\{backfill=\"fine\",instance=\"\",job=\"sluice\",state=\"(RUNNING|THROTTLED)\"} 1.*"));
            assertThat(fine.waitFor(90, TimeUnit.SECONDS)).isTrue();
            assertThat(fine.exitValue()).as(Files.readString(log)).isZero();

            String metrics = Http.body(url + "/metrics");
            assertThat(metrics)
                    .contains("sluice_job_state{backfill=\"doomed\",instance=\"\",job=\"sluice\",state=\"FAILED\"} 1")
                    .contains("sluice_job_state{backfill=\"fine\",instance=\"\",job=\"sluice\",state=\"COMPLETED\"} 1")
                    .contains("sluice_rows_total{backfill=\"doomed\",instance=\"\",job=\"sluice\"}");

            // Prometheus scrapes the gateway with honor_labels: true, so the pushed labels are kept as they are.
            String test = "rule_files: [ "
                    + PromSeries.quoted(Path.of("..", "config", "prometheus", "alerts.yml")
                            .toAbsolutePath()
                            .normalize()
                            .toString())
                    + " ]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n"
                    + "    input_series:\n" + PromSeries.inputSeries(metrics, "", 10)
                    + "    alert_rule_test:\n      - eval_time: 5m\n        alertname: SluiceJobFailed\n        exp_alerts:\n"
                    + "          - exp_labels: { severity: page, backfill: doomed, state: FAILED, job: sluice }\n"
                    + "            exp_annotations:\n              summary: \"Backfill doomed failed\"\n"
                    + "              description: \"It is resumable from its checkpoint: see 'sluice status doomed' for"
                    + " the error, then 'sluice resume doomed'.\"\n";
            Files.writeString(dir.resolve("pushed.test.yml"), test);
            Installed.Ran r = Installed.run(dir, promtool.toString(), "test", "rules", "pushed.test.yml");
            assertThat(r.exitCode()).as(r.output() + "\n" + test).isZero();
        } finally {
            gateway.destroy();
            if (!gateway.waitFor(10, TimeUnit.SECONDS)) {
                gateway.destroyForcibly();
            }
        }
    }
}
