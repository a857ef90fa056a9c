package dev.sluice.jobs.metrics;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;

import com.sun.net.httpserver.HttpServer;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import org.springframework.scheduling.concurrent.CustomizableThreadFactory;

/**
 * {@code run --metrics-port P}: the run's meters at {@code http://HOST:P/actuator/prometheus} for as long as the
 * run lasts, the same path {@code serve} uses, so one scrape configuration fits both.
 */
public final class MetricsEndpoint implements AutoCloseable {

    public static final String PATH = "/actuator/prometheus";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final HttpServer server;

    private MetricsEndpoint(int port) throws IOException {
        server = HttpServer.create(new InetSocketAddress(port), 0);
        server.createContext(PATH, exchange -> {
            byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.setExecutor(Executors.newSingleThreadExecutor(daemonThreads("sluice-metrics-")));
        server.start();
    }

    /** Serves on {@code port} (0 picks a free one). */
    public static MetricsEndpoint start(int port) throws IOException {
        return new MetricsEndpoint(port);
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        registry.close();
    }

    /** Threads that do not keep the process alive (a scrape or a push in flight never holds up its exit). */
    public static ThreadFactory daemonThreads(String prefix) {
        CustomizableThreadFactory threads = new CustomizableThreadFactory(prefix);
        threads.setDaemon(true);
        return threads;
    }
}
