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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
    private Path bin;

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
        try (Connection c = server.getPostgresDatabase().getConnection();
                Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name);
        }
        return jdbcUrl(name);
    }

    /**
     * Kills every backend and starts the server again ({@code pg_ctl restart -m immediate}); returns once it accepts
     * connections.
     */
    public void restartImmediately() throws IOException, InterruptedException {
        pgCtl(List.of("-D", dataDir.resolve("data").toString(), "-m", "immediate", "-w", "-t", "60", "restart"));
        awaitReady(Duration.ofSeconds(60));
    }

    /**
     * Stops the server ({@code pg_ctl stop}): {@code immediate} kills every backend at once, as a crash does; else a
     * fast shutdown, as a service manager's stop or a failover's demotion does (every session told 57P01). Returns once
     * it is down; {@link #startAgain} brings it back on the same port and data directory.
     */
    public void stop(boolean immediate) throws IOException, InterruptedException {
        Path data = dataDir.resolve("data");
        Files.writeString(dataDir.resolve("postmaster.opts.kept"), Files.readString(data.resolve("postmaster.opts")));
        pgCtl(List.of("-D", data.toString(), "-m", immediate ? "immediate" : "fast", "-w", "-t", "60", "stop"));
    }

    /** Starts the server {@link #stop} stopped, with the options it ran with; returns once it accepts connections. */
    public void startAgain() throws IOException, InterruptedException {
        Path data = dataDir.resolve("data");
        // postgres "-D" "dir" "-p" "5432" ...: the options after the data directory, quoted as pg_ctl's shell wants.
        List<String> tokens = new ArrayList<>();
        Matcher m = Pattern.compile("\"([^\"]*)\"").matcher(Files.readString(dataDir.resolve("postmaster.opts.kept")));
        while (m.find()) {
            tokens.add(m.group(1));
        }
        List<String> options = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) {
            if (tokens.get(i).equals("-D")) {
                i++;
            } else {
                options.add("'" + tokens.get(i).replace("'", "'\\''") + "'");
            }
        }
        pgCtl(List.of(
                "-D",
                data.toString(),
                "-o",
                String.join(" ", options),
                "-l",
                dataDir.resolve("server.log").toString(),
                "-w",
                "-t",
                "60",
                "start"));
        awaitReady(Duration.ofSeconds(60));
    }

    private void pgCtl(List<String> arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        if (LinuxUtils.isUnshareAvailable()) {
            command.addAll(List.of("unshare", "-U"));
        }
        command.add(binaries().resolve("pg_ctl").toString());
        command.addAll(arguments);
        Process p = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(dataDir.resolve("pg_ctl.log").toFile())
                .start();
        if (!p.waitFor(90, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("pg_ctl " + arguments.get(arguments.size() - 1) + " failed: "
                    + Files.readString(dataDir.resolve("pg_ctl.log")));
        }
    }

    /** The directory of the server's programs, found from its running postmaster (or one seen running before). */
    private Path binaries() throws IOException {
        if (bin == null) {
            Path data = dataDir.resolve("data");
            long postmaster = Long.parseLong(
                    Files.readAllLines(data.resolve("postmaster.pid")).get(0).trim());
            bin = Files.readSymbolicLink(Path.of("/proc", Long.toString(postmaster), "exe"))
                    .getParent();
        }
        return bin;
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
