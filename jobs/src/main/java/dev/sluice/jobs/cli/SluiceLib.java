package dev.sluice.jobs.cli;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.jar.JarFile;

import dev.sluice.engine.spec.SpecException;

/**
 * {@code SLUICE_LIB}, the jars of a team's own transformers ({@code scripts/sluice} puts them on the class path): a
 * comma-separated list of jars and directories of jars. Java's launcher skips an entry it cannot use without a word,
 * so the job would then find no transformer of that name, or an older one from another jar; each entry is checked
 * here instead, before a command runs: it exists, can be read, and is a jar (a directory's {@code *.jar} files too).
 */
final class SluiceLib {

    static final String VARIABLE = "SLUICE_LIB";

    private SluiceLib() {}

    /** @throws SpecException naming SLUICE_LIB and the entry (exit 2) if an entry is not a readable jar or directory */
    static void check(String value) {
        if (value == null || value.isBlank()) {
            return;
        }
        for (String written : value.split(",", -1)) {
            String entry = written.strip();
            if (!entry.isEmpty()) {
                entry(entry);
            }
        }
    }

    private static void entry(String entry) {
        Path path;
        try {
            path = Path.of(entry);
        } catch (InvalidPathException e) {
            throw new SpecException(VARIABLE, "'" + entry + "' is not a path: " + e.getReason());
        }
        if (!Files.exists(path)) {
            throw new SpecException(
                    VARIABLE,
                    entry + " does not exist (a jar, or a directory of jars"
                            + (entry.contains(":") || entry.contains(";") ? "; separate entries with commas)" : ")"));
        }
        if (!Files.isReadable(path)) {
            throw new SpecException(VARIABLE, entry + " cannot be read by this user");
        }
        if (!Files.isDirectory(path)) {
            jar(entry, path);
            return;
        }
        try (DirectoryStream<Path> jars = Files.newDirectoryStream(path, "*.jar")) {
            for (Path jar : jars) {
                if (!Files.isReadable(jar)) {
                    throw new SpecException(VARIABLE, jar + " (in " + entry + ") cannot be read by this user");
                }
                jar(jar + " (in " + entry + ")", jar);
            }
        } catch (IOException e) {
            throw new SpecException(VARIABLE, entry + " cannot be listed: " + e.getMessage());
        }
    }

    private static void jar(String shown, Path path) {
        try (JarFile jar = new JarFile(path.toFile())) {
            jar.size(); // opened: its central directory reads
        } catch (IOException e) {
            throw new SpecException(
                    VARIABLE,
                    shown + " is not a jar ("
                            + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()) + ")");
        }
    }
}
