package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The build as scripts/sluice, scripts/demo and CI run it ({@code mvn -q -B}, output to a file): Maven 3.8's console
 * library wrote a colour reset ({@code ESC[0m}) when it closed, even with --batch-mode into a file, so every log that
 * began with a build began with stray escapes. The project's .mvn/jvm.config turns that off.
 */
class BuildOutputTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void aQuietBatchBuildIntoAFileWritesNoControlCodes() throws Exception {
        Path log = dir.resolve("build.log");
        Process mvn = new ProcessBuilder("mvn", "-q", "-B", "-o", "-N", "validate")
                .directory(ROOT.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.PIPE)
                .start();
        mvn.getOutputStream().close();
        assertThat(mvn.waitFor(90, TimeUnit.SECONDS)).isTrue();
        String written = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(mvn.exitValue()).as(written).isZero();
        assertThat(written).as("the build's output").doesNotContain("\u001b");
    }
}
