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
 * registered for ServiceLoader in {@code META-INF/services}. Also broken ones, as teams ship them: see {@link Flaw}.
 */
public final class TransformerJar {

    /** What is wrong with the jar. */
    public enum Flaw {
        /** Nothing: the transformer works. */
        NONE,
        /** The transformer's static initializer throws (ExceptionInInitializerError when the catalogue makes one). */
        THROWING_INITIALIZER,
        /** The catalogue's static initializer throws (ServiceConfigurationError when ServiceLoader makes it). */
        THROWING_CATALOGUE,
        /**
         * The transformer needs a class of the team's that the jar lacks (NoClassDefFoundError when the catalogue
         * makes one), as when a dependency's jar is not on the class path.
         */
        MISSING_CLASS,
        /** As MISSING_CLASS, but the class is first needed when a row is transformed, while the job runs. */
        MISSING_CLASS_WHILE_RUNNING
    }

    /** The engine's interface the jar is built against. */
    public enum Api {
        /** {@code dev.sluice.engine.spi.Transformer}, registered under its name. */
        CURRENT("dev.sluice.engine.spi.Transformer"),
        /** The name before 0.2, {@code dev.sluice.engine.chunk.Transformer}, as teams' older jars are built. */
        BEFORE_0_2("dev.sluice.engine.chunk.Transformer");

        private final String type;

        Api(String type) {
            this.type = type;
        }
    }

    static final String SOURCE = """
            package com.example.team;

            import java.util.HashMap;
            import java.util.List;
            import java.util.Locale;
            import java.util.Map;
            import java.util.Set;

            import %s;

            /** initials: 'Ada King Lovelace' -> 'A.K.L.' with the separator given by with: { separator: "." }. */
            public final class TeamTransformers implements Transformer.Catalog {
            %s
                // The other catalogues on the class path, as a team's catalogue that also offers them asks them.
                private static final Transformer.Catalog OTHERS = Transformer.Catalog.installed(TeamTransformers.class);

                @Override
                public Transformer find(String name) {
                    return name.equals("initials") ? new Initials("") : OTHERS.find(name);
                }

                static final class Initials implements Transformer {
            %s
                    private final String separator;

                    Initials(String separator) {
                        this.separator = separator;%s
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

                    public Map<String, Object> transform(Row row) {%s
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

    // A class of the team's own that the MISSING_CLASS transformer uses, compiled but left out of the jar.
    static final String HELPER = """
            package com.example.team;

            public final class Abbreviations {
                public String shorten(String word) {
                    return word.substring(0, 1);
                }
            }
            """;

    private TransformerJar() {}

    /** Compiles the transformer in {@code work} and returns the jar. */
    public static Path build(Path work) throws IOException {
        return build(work, Flaw.NONE);
    }

    /** Compiles the transformer with {@code flaw} in {@code work} and returns the jar. */
    public static Path build(Path work, Flaw flaw) throws IOException {
        return build(work, flaw, Api.CURRENT);
    }

    /** Compiles the transformer against {@code api} in {@code work} and returns the jar. */
    public static Path build(Path work, Api api) throws IOException {
        return build(work, Flaw.NONE, api);
    }

    /** Compiles the transformer with {@code flaw} against {@code api} in {@code work} and returns the jar. */
    public static Path build(Path work, Flaw flaw, Api api) throws IOException {
        Path src = work.resolve("src/com/example/team/TeamTransformers.java");
        Path helper = work.resolve("src/com/example/team/Abbreviations.java");
        Path classes = work.resolve("classes");
        Files.createDirectories(src.getParent());
        Files.createDirectories(classes);
        Files.writeString(
                src,
                SOURCE.formatted(
                        api.type,
                        flaw == Flaw.THROWING_CATALOGUE
                                ? "    static { if (true) throw new IllegalStateException(\"no licence"
                                        + " key for the team's catalogue\"); }\n"
                                : "",
                        flaw == Flaw.THROWING_INITIALIZER
                                ? "        static final String SEPARATOR = Character.toString("
                                        + "Integer.parseInt(\"dot\"));\n"
                                : "",
                        flaw == Flaw.MISSING_CLASS
                                ? "\n                        new Abbreviations().shorten(\"x\");"
                                : "",
                        flaw == Flaw.MISSING_CLASS_WHILE_RUNNING
                                ? "\n                        new Abbreviations().shorten(\"x\");"
                                : ""));
        Files.writeString(helper, HELPER);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int rc = javac.run(
                null,
                null,
                null,
                "-d",
                classes.toString(),
                "-cp",
                System.getProperty("java.class.path"),
                src.toString(),
                helper.toString());
        if (rc != 0) {
            throw new IllegalStateException("the team's transformer did not compile");
        }
        Path jar = work.resolve("team-transformers.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
                Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile)
                    .filter(f -> (flaw != Flaw.MISSING_CLASS && flaw != Flaw.MISSING_CLASS_WHILE_RUNNING)
                            || !f.endsWith("Abbreviations.class"))
                    .toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, out);
                out.closeEntry();
            }
            out.putNextEntry(new JarEntry("META-INF/services/" + api.type + "$Catalog"));
            write(out, List.of("com.example.team.TeamTransformers"));
            out.closeEntry();
        }
        return jar;
    }

    private static void write(OutputStream out, List<String> lines) throws IOException {
        out.write((String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
