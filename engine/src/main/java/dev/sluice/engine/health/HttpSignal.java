package dev.sluice.engine.health;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.util.List;

/**
 * {@code health.http}: gh-ost's throttle endpoint. A GET of {@code url} that answers 2xx lets chunks run; any other
 * status holds the job (an application that knows it is busy says so); no answer is unreadable, and the gate fails
 * closed.
 */
public final class HttpSignal implements Signal {

    private final HttpClient http;
    private final URI url;

    HttpSignal(HttpClient http, String url) {
        this.http = http;
        this.url = URI.create(url);
    }

    @Override
    public String name() {
        return "health.http";
    }

    @Override
    public List<Reading> read() {
        int status;
        try {
            status = http.send(
                            HttpRequest.newBuilder(url)
                                    .timeout(PrometheusSignal.TIMEOUT)
                                    .GET()
                                    .build(),
                            HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (IOException e) {
            throw new UncheckedIOException("no answer from " + url + ": " + why(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking " + url, e);
        }
        return List.of(Reading.status("health.http", status));
    }

    /** An I/O failure in a few words (the JDK's client often has no message of its own). */
    static String why(IOException e) {
        if (e instanceof HttpTimeoutException) {
            return "no answer within " + PrometheusSignal.TIMEOUT.toSeconds() + " s";
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
