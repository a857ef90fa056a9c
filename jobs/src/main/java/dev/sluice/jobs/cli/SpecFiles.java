package dev.sluice.jobs.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.stream.Stream;

import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.SpecParser;

/** The job specs in a directory ({@code config/jobs}): every {@code .yml} and {@code .yaml} file, by file name. */
public final class SpecFiles {

    private SpecFiles() {}

    /**
     * @param skipped told of each file that does not parse (the file and why); it is left out
     * @return the specs that parse; none when {@code dir} is not a directory
     */
    public static List<JobSpec> under(Path dir, BiConsumer<Path, SpecException> skipped) throws IOException {
        List<JobSpec> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(
                            p -> p.toString().endsWith(".yml") || p.toString().endsWith(".yaml"))
                    .sorted()
                    .toList()) {
                try {
                    out.add(SpecParser.read(f));
                } catch (SpecException e) {
                    skipped.accept(f, e);
                }
            }
        }
        return out;
    }
}
