package dev.sluice.jobs.metrics;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Locale;

import dev.sluice.engine.spec.SpecException;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.exporter.pushgateway.PushGateway;
import io.prometheus.metrics.exporter.pushgateway.Scheme;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code run --push-gateway URL}: a run outside {@code serve} pushes its meters, {@code sluice_job_state} among
 * them, to a Prometheus Pushgateway while it runs and when it ends (completed, failed, stopped), so the alerts that
 * watch {@code serve}'s jobs fire for CLI runs too. Grouped by {@code job="sluice", backfill="NAME"}: each push
 * replaces that backfill's last one, so the gateway holds every backfill's latest state until its next run. Scrape
 * the gateway with {@code honor_labels: true}.
 */
public final class PushGatewayExport {

    /** The Pushgateway's job label: Sluice's pushes, whichever backfill. */
    public static final String JOB = "sluice";

    /**
     * How often a run pushes: often enough for the stalled-job alert (10 minutes without progress) and a dashboard;
     * rarely enough to cost the gateway nothing.
     */
    public static final Duration PUSH_EVERY = Duration.ofSeconds(10);

    private static final Logger LOG = LoggerFactory.getLogger(PushGatewayExport.class);
    private static final int MAX_PORT = 65_535;

    private final PushGateway gateway;
    private final String address;
    // Whether the last push failed: a gateway that cannot be reached is said once, and again once it answers.
    private boolean failing;

    private PushGatewayExport(PushGateway gateway, String address) {
        this.gateway = gateway;
        this.address = address;
    }

    /** A gateway's {@code host:port} and whether it speaks HTTPS. */
    public record Address(String hostPort, boolean https) {
        @Override
        public String toString() {
            return (https ? "https://" : "http://") + hostPort;
        }
    }

    /** Prepares pushes of {@code registry} to the gateway at {@code address}. */
    public static PushGatewayExport to(Address address, String backfill, PrometheusMeterRegistry registry) {
        PushGateway gateway = PushGateway.builder()
                .address(address.hostPort())
                .scheme(address.https() ? Scheme.HTTPS : Scheme.HTTP)
                .job(JOB)
                .groupingKey("backfill", backfill)
                .registry(registry.getPrometheusRegistry())
                .connectionTimeout(Duration.ofSeconds(5))
                .readTimeout(Duration.ofSeconds(10))
                .build();
        return new PushGatewayExport(gateway, address.toString());
    }

    /** Reads a gateway's URL ({@code http://host:9091}, {@code host:9091}), refusing a bad one naming {@code option}. */
    public static Address parse(String option, String url) {
        URI uri;
        try {
            uri = new URI(url.contains("://") ? url : "http://" + url);
        } catch (URISyntaxException e) {
            throw new SpecException(option, "not a URL: " + e.getReason());
        }
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new SpecException(option, "expected http:// or https://, got " + scheme + "://");
        }
        if (uri.getHost() == null) {
            throw new SpecException(
                    option,
                    "no valid host"
                            + (uri.getRawAuthority() != null
                                            && uri.getRawAuthority().matches(".*:\\d+")
                                    ? " and port"
                                    : "")
                            + " in '" + url
                            + "' (e.g. http://pushgateway:9091)");
        }
        if (uri.getPort() == 0 || uri.getPort() > MAX_PORT) {
            throw new SpecException(
                    option, "port " + uri.getPort() + " in '" + url + "' is not a port (1 to " + MAX_PORT + ")");
        }
        if (uri.getRawUserInfo() != null) {
            throw new SpecException(option, "carries credentials; Sluice never takes them in a URL");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new SpecException(option, "give the gateway's address without a query or fragment");
        }
        if (uri.getRawPath() != null
                && !uri.getRawPath().isEmpty()
                && !uri.getRawPath().equals("/")) {
            throw new SpecException(
                    option,
                    "give the gateway's address without a path (Sluice adds" + " /metrics/job/sluice/backfill/NAME)");
        }
        return new Address(
                uri.getHost() + ":" + (uri.getPort() > 0 ? uri.getPort() : scheme.equals("https") ? 443 : 9091),
                scheme.equals("https"));
    }

    /**
     * Pushes the meters as they are now. A gateway that cannot be reached never costs the run: it is said once, when
     * pushes start failing, and once more when they go through again (then again if they fail anew).
     */
    public synchronized void push() {
        try {
            gateway.push();
        } catch (IOException | RuntimeException e) {
            if (!failing) {
                LOG.warn(
                        "could not push metrics to {}: {} (said once; the run goes on and keeps trying every {} s)",
                        address,
                        e.getMessage(),
                        PUSH_EVERY.toSeconds());
            }
            failing = true;
            return;
        }
        if (failing) {
            LOG.warn("metrics reach {} again", address);
        }
        failing = false;
    }
}
