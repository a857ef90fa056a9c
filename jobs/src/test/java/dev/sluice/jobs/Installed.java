package dev.sluice.jobs;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/**
 * Programs some tests need from Debian's packages (promtool, the Pushgateway, chromium and its driver). They are
 * installed by {@code .ci/run} (and by hand, see the README), never by a test: where one is missing, the test that
 * needs it is skipped with a message saying how to install it.
 */
public final class Installed {

    private Installed() {}

    /** The program on the PATH, or the test is skipped naming the package that has it. */
    public static Path program(String name, String debianPackage) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : path.split(File.pathSeparator, -1)) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        Assumptions.abort("skipped: " + name + " is not installed; install Debian's " + debianPackage
                + " package (apt-get install " + debianPackage + "), as .ci/run does");
        return null;
    }

    /** Output and exit code of a program run to completion. */
    public record Ran(int exitCode, String output) {}

    /** Runs {@code command} in {@code dir} for at most two minutes. */
    public static Ran run(Path dir, String... command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("sluice-run", ".out");
        try {
            Process p = new ProcessBuilder(new ArrayList<>(List.of(command)))
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .start();
            if (!p.waitFor(2, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", command) + " did not finish in 2 minutes");
            }
            return new Ran(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
