package dev.sluice.engine.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * Builds, as a team would, a jar holding a transformer of its own: compiled against the engine alone, its catalogue
 * registered for ServiceLoader in {@code META-INF/services}.
 */
public final class TransformerJar {

    static final String SOURCE = """
            package com.example.team;

            import java.util.HashMap;
            import java.util.List;
            import java.util.Locale;
            import java.util.Map;
            import java.util.Set;

            import dev.sluice.engine.chunk.Transformer;

            /** initials: 'Ada King Lovelace' -> 'A.K.L.' with the separator given by with: { separator: "." }. */
            public final class TeamTransformers implements Transformer.Catalog {

                @Override
                public Transformer find(String name) {
                    return name.equals("initials") ? new Initials("") : null;
                }

                static final class Initials implements Transformer {
                    private final String separator;

                    Initials(String separator) {
                        this.separator = separator;
                    }

                    public List<String> reads() { return List.of("name"); }

                    public List<String> writes() { return List.of("initials"); }

                    public Set<String> options() { return Set.of("separator"); }

                    public Transformer with(Map<String, String> options) {
                        String s = options.getOrDefault("separator", "");
                        if (s.length() > 1) {
                            throw new BadOption("separator", "at most one character, got '" + s + "'");
                        }
                        return new Initials(s);
                    }

                    public Map<String, Object> transform(Row row) {
                        String name = row.text("name");
                        if (name == null) {
                            return null;
                        }
                        StringBuilder out = new StringBuilder();
                        for (String word : name.trim().split("\\\\s+")) {
                            out.append(word.substring(0, 1).toUpperCase(Locale.ROOT)).append(separator);
                        }
                        Map<String, Object> values = new HashMap<>();
                        values.put("initials", out.toString());
                        return values;
                    }
                }
            }
            """;

    private TransformerJar() {
    }

    /** Compiles the transformer in {@code work} and returns the jar. */
    public static Path build(Path work) throws IOException {
        Path src = work.resolve("src/com/example/team/TeamTransformers.java");
        Path classes = work.resolve("classes");
        Files.createDirectories(src.getParent());
        Files.createDirectories(classes);
        Files.writeString(src, SOURCE);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int rc = javac.run(null, null, null, "-d", classes.toString(), "-cp", System.getProperty("java.class.path"),
                src.toString());
        if (rc != 0) {
            throw new IllegalStateException("the team's transformer did not compile");
        }
        Path jar = work.resolve("team-transformers.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
             Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, out);
                out.closeEntry();
            }
            out.putNextEntry(new JarEntry("META-INF/services/dev.sluice.engine.chunk.Transformer$Catalog"));
            write(out, List.of("com.example.team.TeamTransformers"));
            out.closeEntry();
        }
        return jar;
    }

    private static void write(OutputStream out, List<String> lines) throws IOException {
        out.write((String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
