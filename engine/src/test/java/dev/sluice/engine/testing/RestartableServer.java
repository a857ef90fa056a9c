package dev.sluice.engine.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import com.zaxxer.hikari.HikariDataSource;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.util.LinuxUtils;

/**
 * A PostgreSQL server of a test's own, on loopback, that the test can restart the hard way: {@code pg_ctl restart -m
 * immediate}, which kills every backend at once (as a crash would) and starts the server again on the same port and
 * data directory, as a failover behind the same URL looks to a client. Stopped and deleted on close.
 */
public final class RestartableServer implements AutoCloseable {

    private final Path dataDir;
    private final EmbeddedPostgres server;

    private RestartableServer(Path dataDir, EmbeddedPostgres server) {
        this.dataDir = dataDir;
        this.server = server;
    }

    public static RestartableServer start() throws IOException {
        Path dir = Files.createTempDirectory("sluice-restartable");
        EmbeddedPostgres pg = EmbeddedPostgres.builder()
                .setDataDirectory(dir.resolve("data"))
                .setCleanDataDirectory(false)
                .setServerConfig("fsync", "off")
                .setServerConfig("max_connections", "60")
                .start();
        return new RestartableServer(dir, pg);
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://localhost:" + server.getPort() + "/" + database;
    }

    public HikariDataSource dataSource() {
        return Postgres.dataSource(jdbcUrl("postgres"));
    }

    /** Creates a database and returns its URL. */
    public String createDatabase(String name) throws SQLException {
        try (Connection c = server.getPostgresDatabase().getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name);
        }
        return jdbcUrl(name);
    }

    /**
     * Kills every backend and starts the server again ({@code pg_ctl restart -m immediate}); returns once it accepts
     * connections.
     */
    public void restartImmediately() throws IOException, InterruptedException {
        Path data = dataDir.resolve("data");
        long postmaster = Long.parseLong(Files.readAllLines(data.resolve("postmaster.pid")).get(0).trim());
        Path bin = Files.readSymbolicLink(Path.of("/proc", Long.toString(postmaster), "exe")).getParent();
        List<String> command = new ArrayList<>();
        if (LinuxUtils.isUnshareAvailable()) {
            // pg_ctl refuses to run as root; as the embedded server itself does, run it in a user namespace.
            command.addAll(List.of("unshare", "-U"));
        }
        command.addAll(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate", "-w", "-t", "60",
                "restart"));
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dataDir.resolve("pg_ctl.log").toFile()).start();
        if (!p.waitFor(90, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("pg_ctl restart failed: " + Files.readString(dataDir.resolve("pg_ctl.log")));
        }
        awaitReady(Duration.ofSeconds(60));
    }

    private void awaitReady(Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            try (Connection c = server.getPostgresDatabase().getConnection()) {
                return;
            } catch (SQLException notYet) {
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("the server did not come back within " + limit);
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // stopping anyway; the directory goes below
        }
        try (Stream<Path> files = Files.walk(dataDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory
        }
    }
}
