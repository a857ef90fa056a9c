package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.net.httpserver.HttpServer;

import dev.sluice.engine.testing.Eventually;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code notify}: a real HTTP receiver on loopback sees the events a job's spec asks for, each a JSON POST with a
 * Slack-compatible {@code text}, its token header taken from the environment; a receiver that answers 5xx is tried
 * again; one that is down costs the job nothing.
 */
class NotifyTest extends CliDatabaseTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** What the receiver was sent: each request's body and its token header. */
    record Received(JsonNode body, String token) {}

    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final AtomicInteger failFirst = new AtomicInteger();
    private HttpServer receiver;
    private String url;

    @BeforeEach
    void receiver() throws IOException {
        receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.createContext("/hook", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            int status = failFirst.getAndDecrement() > 0 ? 503 : 200;
            if (status == 200) {
                received.add(new Received(
                        JSON.readTree(new String(body, StandardCharsets.UTF_8)),
                        exchange.getRequestHeaders().getFirst("X-Token")));
            }
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        receiver.start();
        url = "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook";
        db.exec(
                "CREATE TABLE ledger (id int PRIMARY KEY, doubled int)",
                "INSERT INTO ledger SELECT g, NULL FROM generate_series(1, 3000) g");
    }

    @AfterEach
    void stop() {
        receiver.stop(0);
    }

    private List<String> events() {
        return received.stream().map(r -> r.body().path("event").asString()).toList();
    }

    @Test
    @Timeout(120)
    void aReceiverSeesStartedCompletedAndValidatedWithItsTokenFromTheEnvironment() throws Exception {
        writeSpec("told", """
                table: ledger
                key: [id]
                set: { doubled: id * 2 }
                validate: [ { target: doubled, source: id * 2 } ]
                notify:
                  - { webhook: "%s", on: [started, completed, validated, failed], header: { name: X-Token, env: HOOK_TOKEN } }
                """.formatted(url));
        Path log = dir.resolve("told.log");
        Process run = Cli.spawn(log, Map.of("HOOK_TOKEN", "t0ken-for-the-hook"), List.of(), args("run", "told"));
        assertThat(run.waitFor(90, TimeUnit.SECONDS)).isTrue();
        assertThat(run.exitValue()).as(Files.readString(log)).isZero();
        // Sent before the process exited: nothing to wait for.
        assertThat(events()).containsExactly("started", "completed", "validated");
        for (Received r : received) {
            assertThat(r.token()).isEqualTo("t0ken-for-the-hook");
            assertThat(r.body().path("job").asString()).isEqualTo("told");
            assertThat(r.body().path("text").asString()).startsWith("Sluice: job told");
        }
        assertThat(received.get(1).body().path("rowsWritten").asLong()).isEqualTo(3000);
        assertThat(Files.readString(log)).doesNotContain("t0ken-for-the-hook");
        for (String table : List.of(
                "batch_job_execution_context", "batch_step_execution_context", "batch_job_execution_params", "audit")) {
            assertThat(db.count(
                            "SELECT count(*) FROM sluice." + table + " t WHERE t::text LIKE '%t0ken-for-the-hook%'"))
                    .as("the token in " + table)
                    .isZero();
        }
    }

    @Test
    @Timeout(120)
    void failedAndPausedAreSaidAndAReceiverAnswering5xxIsTriedAgain() throws Exception {
        writeSpec("doomed", """
                table: ledger
                key: [id]
                set: { doubled: 100 / (id - 2500) }
                chunk: { rows: 500 }
                notify: [ { webhook: "%s", on: [failed] } ]
                """.formatted(url));
        failFirst.set(2);
        Cli.Result failed = Cli.run(args("run", "doomed"));
        assertThat(failed.exitCode()).as(failed.err()).isEqualTo(1);
        Eventually.eventually(
                Duration.ofSeconds(30), "failed delivered on its third try", () -> events().equals(List.of("failed")));
        assertThat(received.get(0).body().path("text").asString()).contains("division by zero");

        writeSpec("slow", """
                table: ledger
                key: [id]
                set: { doubled: id * 2 }
                chunk: { rows: 100, max-rows: 100 }
                throttle: { rows-per-second: 200 }
                notify: [ { webhook: "%s", on: [paused, resumed] } ]
                """.formatted(url));
        Path log = dir.resolve("slow.log");
        Process run = Cli.spawn(log, args("run", "slow"));
        Eventually.eventually(
                Duration.ofSeconds(60),
                "slow running",
                () -> Cli.run(args("status", "slow", "--json")).out().contains("\"state\":\"RUNNING\""));
        Cli.Result paused = Cli.run(args("pause", "slow"));
        assertThat(paused.exitCode()).as(paused.err()).isZero();
        assertThat(run.waitFor(60, TimeUnit.SECONDS)).isTrue();
        Eventually.eventually(Duration.ofSeconds(30), "paused said", () -> events().contains("paused"));
        assertThat(events()).containsExactly("failed", "paused");
    }

    @Test
    @Timeout(120)
    void aReceiverThatIsDownCostsTheJobNothing() throws Exception {
        int down;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            down = free.getLocalPort();
        }
        writeSpec("unheard", """
                table: ledger
                key: [id]
                set: { doubled: id * 2 }
                notify: [ { webhook: "http://127.0.0.1:%d/hook", on: [started, completed, failed] } ]
                """.formatted(down));
        // A process of its own, as an operator runs it: it exits when the job is done, its retries with it (in this
        // JVM they would go on after the test, into another test's output).
        Path log = dir.resolve("unheard.log");
        Process run = Cli.spawn(log, args("run", "unheard"));
        assertThat(run.waitFor(90, TimeUnit.SECONDS)).isTrue();
        assertThat(run.exitValue()).as(Files.readString(log)).isZero();
        assertThat(db.count("SELECT count(*) FROM ledger WHERE doubled IS DISTINCT FROM id * 2"))
                .isZero();
        assertThat(Cli.run(args("status", "unheard", "--json")).out()).contains("\"state\":\"COMPLETED\"");
    }
}
