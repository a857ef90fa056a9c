package dev.sluice.jobs.cli;

import java.io.IOException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import dev.sluice.jobs.metrics.MetricsEndpoint;
import dev.sluice.jobs.metrics.PushGatewayExport;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import picocli.CommandLine.Option;

/** Where a run outside {@code serve} shows its meters: an endpoint to scrape while it runs, a Pushgateway, both. */
public class MetricsOptions {

    @Option(
            names = "--metrics-port",
            paramLabel = "P",
            description = "serve the run's metrics at http://HOST:P/actuator/prometheus while it runs")
    Integer metricsPort;

    @Option(
            names = "--push-gateway",
            paramLabel = "URL",
            description =
                    "push the run's metrics (its state among them) to a Prometheus Pushgateway every 10 s while"
                            + " it runs and when it ends, grouped by backfill, so alerts see CLI runs (e.g. http://pushgateway:9091)")
    String pushGateway;

    private PushGatewayExport.Address gateway;

    /** Checks the options before anything else is done. */
    void check() {
        if (metricsPort != null) {
            Ports.check("--metrics-port", metricsPort);
        }
        if (pushGateway != null) {
            gateway = PushGatewayExport.parse("--push-gateway", pushGateway);
        }
    }

    /** The run's meters, published as asked; null when neither option is given. */
    Published open(String backfill) throws IOException {
        if (metricsPort == null && gateway == null) {
            return null;
        }
        MetricsEndpoint endpoint = metricsPort == null ? null : MetricsEndpoint.start(metricsPort);
        PrometheusMeterRegistry registry =
                endpoint != null ? endpoint.registry() : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        PushGatewayExport push = gateway == null ? null : PushGatewayExport.to(gateway, backfill, registry);
        return new Published(registry, endpoint, push);
    }

    /**
     * A run's registry and where it goes. With a gateway, the meters are pushed every
     * {@link PushGatewayExport#PUSH_EVERY} once the run has registered them (an empty push would delete the
     * backfill's last state at the gateway), and once more when the run ends, with its final state.
     */
    static final class Published implements AutoCloseable {

        private final PrometheusMeterRegistry registry;
        private final MetricsEndpoint endpoint;
        private final PushGatewayExport push;
        private ScheduledExecutorService pushes;
        private ScheduledFuture<?> pushing;

        Published(PrometheusMeterRegistry registry, MetricsEndpoint endpoint, PushGatewayExport push) {
            this.registry = registry;
            this.endpoint = endpoint;
            this.push = push;
        }

        PrometheusMeterRegistry registry() {
            return registry;
        }

        void started() {
            if (push == null) {
                return;
            }
            pushes = Executors.newSingleThreadScheduledExecutor(MetricsEndpoint.daemonThreads("sluice-push-"));
            pushing = pushes.scheduleWithFixedDelay(
                    this::pushIfRegistered, 1, PushGatewayExport.PUSH_EVERY.toSeconds(), TimeUnit.SECONDS);
        }

        private void pushIfRegistered() {
            if (!registry.find("sluice.job.state").gauges().isEmpty()) {
                push.push();
            }
        }

        @Override
        public void close() {
            if (pushes != null) {
                pushing.cancel(false);
                pushes.shutdownNow();
            }
            if (push != null) {
                pushIfRegistered();
            }
            if (endpoint != null) {
                endpoint.close();
            } else {
                registry.close();
            }
        }
    }
}
