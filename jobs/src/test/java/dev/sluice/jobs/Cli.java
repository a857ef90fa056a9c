package dev.sluice.jobs;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.sluice.jobs.cli.SluiceCommand;

/** Runs the real command line: in this JVM with captured output, or as a separate JVM that tests can kill. */
final class Cli {

    record Result(int exitCode, String out, String err) {}

    private Cli() {}

    /** {@code args} followed by the options every test passes: its config directory and database (user postgres). */
    static String[] against(Path config, String jdbcUrl, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--config", config.toString(), "--jdbc-url", jdbcUrl, "--user", "postgres"));
        return all.toArray(String[]::new);
    }

    static synchronized Result run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int code = SluiceCommand.execute(args);
            return new Result(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    /** Starts {@code sluice ARGS} in a new JVM, output to {@code log}. */
    static Process spawn(Path log, String... args) throws IOException {
        return spawn(log, Map.of(), List.of(), args);
    }

    /**
     * Starts {@code sluice ARGS} in a new JVM with more environment variables and {@code jars} on its class path
     * (after the build's own), output to {@code log}.
     */
    static Process spawn(Path log, Map<String, String> env, List<Path> jars, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx256m");
        // The jar's own logging, not the tests': what an operator would see.
        command.add("-Dlogback.configurationFile=logback.xml");
        command.add("-cp");
        StringBuilder classPath = new StringBuilder(
                System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        jars.forEach(j -> classPath.append(File.pathSeparator).append(j));
        command.add(classPath.toString());
        command.add(SluiceCommand.class.getName());
        command.addAll(List.of(args));
        ProcessBuilder pb =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        return pb.start();
    }
}
