package dev.sluice.jobs.cli;

import java.io.IOException;

import dev.sluice.jobs.metrics.MetricsEndpoint;
import dev.sluice.jobs.metrics.PushGatewayExport;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import picocli.CommandLine.Option;

/** Where a run outside {@code serve} shows its meters: an endpoint to scrape while it runs, a Pushgateway, both. */
public class MetricsOptions {

    @Option(names = "--metrics-port", paramLabel = "P",
            description = "serve the run's metrics at http://HOST:P/actuator/prometheus while it runs")
    Integer metricsPort;

    @Option(names = "--push-gateway", paramLabel = "URL",
            description = "push the run's metrics (its state among them) to a Prometheus Pushgateway when it starts"
                    + " and when it ends, grouped by backfill, so alerts see CLI runs (e.g. http://pushgateway:9091)")
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
        PrometheusMeterRegistry registry = endpoint != null ? endpoint.registry() : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        PushGatewayExport push = gateway == null ? null : PushGatewayExport.to(gateway, backfill, registry);
        return new Published(registry, endpoint, push);
    }

    /** A run's registry and where it goes; closing pushes the final state. */
    record Published(PrometheusMeterRegistry registry, MetricsEndpoint endpoint, PushGatewayExport push) implements AutoCloseable {

        void started() {
            if (push != null) {
                push.push();
            }
        }

        @Override
        public void close() {
            if (push != null) {
                push.push();
            }
            if (endpoint != null) {
                endpoint.close();
            } else {
                registry.close();
            }
        }
    }
}
