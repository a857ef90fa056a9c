package dev.sluice.engine.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * A primary and a streaming standby, both real PostgreSQL servers on loopback. The standby starts from a cold
 * copy of the primary's data directory (the embedded binaries have no pg_basebackup), with
 * {@code standby.signal} and {@code primary_conninfo}. Both are stopped and their directories deleted on close.
 */
public final class StandbyPair implements AutoCloseable {

    private final Path root;
    private EmbeddedPostgres primary;
    private EmbeddedPostgres standby;

    private StandbyPair(Path root) {
        this.root = root;
    }

    public static StandbyPair start() throws IOException {
        StandbyPair pair = new StandbyPair(Files.createTempDirectory("sluice-standby-pair"));
        try {
            pair.boot();
            return pair;
        } catch (IOException | RuntimeException e) {
            pair.close();
            throw e;
        }
    }

    private void boot() throws IOException {
        Path primaryDir = root.resolve("primary");
        Path standbyDir = root.resolve("standby");
        EmbeddedPostgres first = server(primaryDir).start();
        int port = first.getPort();
        first.close(); // a clean shutdown: the copy below is a consistent cold backup
        copy(primaryDir, standbyDir);
        primary = server(primaryDir).setPort(port).start();
        // primary_conninfo has spaces, which the embedded launcher's "pg_ctl -o" would split: it goes into
        // postgresql.auto.conf instead.
        String conninfo =
                "primary_conninfo = 'host=localhost port=" + port + " user=postgres application_name=standby1'\n";
        standby = server(standbyDir)
                .setServerConfig("hot_standby", "on")
                .setDataDirectoryCustomizer(dir -> {
                    append(dir.toPath().resolve("postgresql.auto.conf"), conninfo);
                    append(dir.toPath().resolve("standby.signal"), "");
                })
                .start();
    }

    private static EmbeddedPostgres.Builder server(Path dataDir) {
        return EmbeddedPostgres.builder()
                .setDataDirectory(dataDir)
                .setCleanDataDirectory(false)
                .setRegisterShutdownHook(true)
                .setPGStartupWait(Duration.ofSeconds(60))
                .setServerConfig("wal_level", "replica")
                .setServerConfig("max_wal_senders", "4")
                .setServerConfig("fsync", "off")
                .setServerConfig("max_connections", "60");
    }

    public EmbeddedPostgres primary() {
        return primary;
    }

    public EmbeddedPostgres standby() {
        return standby;
    }

    /** The standby's JDBC URL for {@code database}. */
    public String standbyUrl(String database) {
        return "jdbc:postgresql://localhost:" + standby.getPort() + "/" + database;
    }

    /** Creates a database on the primary and waits until the standby has it too. */
    public String createDatabase(String name) throws SQLException, InterruptedException {
        try (Connection c = primary.getPostgresDatabase().getConnection();
                Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            try (Connection c = standby.getDatabase("postgres", name).getConnection()) {
                return name;
            } catch (SQLException notYet) {
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("the standby never received database " + name);
    }

    /** Runs statements on the standby (pg_wal_replay_pause(), pg_wal_replay_resume()). */
    public void onStandby(String sql) throws SQLException {
        try (Connection c = standby.getPostgresDatabase().getConnection();
                Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    @Override
    public void close() {
        for (EmbeddedPostgres pg : new EmbeddedPostgres[] {standby, primary}) {
            if (pg != null) {
                try {
                    pg.close();
                } catch (IOException ignored) {
                    // stopping anyway; the directory goes below
                }
            }
        }
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory
        }
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path source : files.toList()) {
                Path target = to.resolve(from.relativize(source).toString());
                if (Files.isDirectory(source)) {
                    Files.createDirectories(target);
                    // PostgreSQL refuses a data directory that others may read.
                    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwx------"));
                } else if (!source.getFileName().toString().equals("postmaster.pid")) {
                    Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    private static void append(Path file, String text) {
        try {
            Files.writeString(file, text, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
