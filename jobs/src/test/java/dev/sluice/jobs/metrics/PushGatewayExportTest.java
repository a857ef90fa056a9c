package dev.sluice.jobs.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;

import com.sun.net.httpserver.HttpServer;

import dev.sluice.engine.spec.SpecException;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;

/**
 * {@code --push-gateway}: a URL that cannot be a gateway's is refused at once, naming the option; a gateway that
 * cannot be reached is said once, not at every push, and its return is said too. Against a real HTTP server that the
 * test starts and stops.
 */
class PushGatewayExportTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            http://127.0.0.1:99999          | --push-gateway: port 99999 in 'http://127.0.0.1:99999' is not a port (1 to 65535)
            http://gateway:0                | --push-gateway: port 0 in 'http://gateway:0' is not a port (1 to 65535)
            gateway:70000                   | --push-gateway: port 70000 in 'gateway:70000' is not a port (1 to 65535)
            http://gateway:99999999999      | --push-gateway: no valid host and port in 'http://gateway:99999999999' (e.g. http://pushgateway:9091)
            http://:9091                    | --push-gateway: no valid host and port in 'http://:9091' (e.g. http://pushgateway:9091)
            http://gate_way:9091            | --push-gateway: no valid host and port in 'http://gate_way:9091' (e.g. http://pushgateway:9091)
            ftp://gateway:9091              | --push-gateway: expected http:// or https://, got ftp://
            """)
    void refusesWhatCannotBeAGatewaysAddress(String url, String message) {
        assertThatThrownBy(() -> PushGatewayExport.parse("--push-gateway", url))
                .isInstanceOf(SpecException.class)
                .hasMessage(message);
    }

    @Test
    void acceptsAGatewaysAddress() {
        assertThat(PushGatewayExport.parse("--push-gateway", "pushgateway:9091").toString())
                .isEqualTo("http://pushgateway:9091");
        assertThat(PushGatewayExport.parse("--push-gateway", "https://gw.example.org")
                        .toString())
                .isEqualTo("https://gw.example.org:443");
        assertThat(PushGatewayExport.parse("--push-gateway", "http://[::1]:65535/")
                        .toString())
                .isEqualTo("http://[::1]:65535");
    }

    @Test
    void anUnreachableGatewayIsSaidOnceAndItsReturnToo() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.counter("sluice.rows", "backfill", "b").increment(5);
        PushGatewayExport push =
                PushGatewayExport.to(PushGatewayExport.parse("--push-gateway", "127.0.0.1:" + port), "b", registry);
        Logger logger = (Logger) LoggerFactory.getLogger(PushGatewayExport.class);
        ListAppender<ILoggingEvent> said = new ListAppender<>();
        said.start();
        logger.addAppender(said);
        try {
            for (int i = 0; i < 3; i++) {
                push.push();
            }
            assertThat(messages(said))
                    .singleElement()
                    .asString()
                    .startsWith("could not push metrics to http://127.0.0.1:" + port + ": ")
                    .contains("said once");

            HttpServer gateway = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
            gateway.createContext("/", exchange -> {
                exchange.getRequestBody().readAllBytes();
                exchange.sendResponseHeaders(200, -1);
                exchange.close();
            });
            gateway.start();
            try {
                push.push();
                push.push();
            } finally {
                gateway.stop(0);
            }
            assertThat(messages(said))
                    .hasSize(2)
                    .last()
                    .asString()
                    .isEqualTo("metrics reach http://127.0.0.1:" + port + " again");

            push.push();
            push.push();
            assertThat(messages(said))
                    .as("failing anew is said anew, once")
                    .hasSize(3)
                    .last()
                    .asString()
                    .startsWith("could not push metrics to");
        } finally {
            logger.detachAppender(said);
            registry.close();
        }
    }

    private static List<String> messages(ListAppender<ILoggingEvent> appender) {
        return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }
}
