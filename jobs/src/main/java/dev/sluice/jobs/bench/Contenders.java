package dev.sluice.jobs.bench;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.sluice.jobs.bench.Report.Result;

/**
 * The ways the same backfill is done: statements run from here (the limit, the PL/pgSQL loop, the client's loop, the
 * OFFSET loop) and
 * JVM contenders in JVMs of their own (Spring Batch, Sluice's modes and its validation), each on a fresh copy.
 */
final class Contenders {

    private final Harness harness;
    private final long rows;
    private final int chunk;
    private final boolean fixed;
    private final int offsetBudget;
    private final String xmx;
    private final BenchServer server;
    // How long a contender's end by a signal waits for this JVM's own interruption to begin.
    private static final Duration SIGNALLED_GRACE = Duration.ofSeconds(2);
    private int jvmRuns;
    // This bench's own mark in its job names.
    private static final String RUN = Long.toString(System.currentTimeMillis() % 1_000_000_000L, 36);

    /**
     * @param fixed       whether Sluice's chunks hold {@code chunk} rows each, not sized toward a target time
     * @param server      the server: the credentials the contenders' processes connect with, and what starts them
     */
    Contenders(Harness harness, long rows, int chunk, boolean fixed, int offsetBudget, String xmx, BenchServer server) {
        this.harness = harness;
        this.rows = rows;
        this.chunk = chunk;
        this.fixed = fixed;
        this.offsetBudget = offsetBudget;
        this.xmx = xmx;
        this.server = server;
    }

    /** The PL/pgSQL keyset loop over the table's key, committing every {@code chunk} rows. */
    Result plpgsql() throws SQLException {
        return sql("plpgsql", PLPGSQL, harness.key().loop(), true);
    }

    static final String PLPGSQL = "PL/pgSQL keyset loop, COMMIT per batch";

    /**
     * The PL/pgSQL loop's batches sent from a client ({@link KeyKind#clientBatch}): one statement a batch, in
     * autocommit, so one round trip and one commit a batch, the least a tool that runs its batches from outside the
     * server does (and nothing else: no checkpoint, no timeouts, no measure of the WAL).
     */
    Result client() throws SQLException {
        String t = harness.copy("client");
        Connection c = harness.connection();
        KeyKind key = harness.key();
        long[] written = {0};
        double seconds = harness.asContender(true, () -> {
            long started = System.nanoTime();
            List<String> lo = key.first();
            try (PreparedStatement batch = c.prepareStatement(key.clientBatch().formatted(t, chunk))) {
                while (true) {
                    for (int i = 0; i < lo.size(); i++) {
                        batch.setString(i + 1, lo.get(i));
                        batch.setString(lo.size() + i + 1, lo.get(i));
                    }
                    try (ResultSet rs = batch.executeQuery()) {
                        if (!rs.next()) {
                            break;
                        }
                        List<String> hi = new ArrayList<>();
                        for (int i = 0; i < lo.size(); i++) {
                            hi.add(rs.getString(i + 1));
                        }
                        written[0] += rs.getLong(lo.size() + 1);
                        lo = hi;
                    }
                }
            }
            return (System.nanoTime() - started) / 1e9;
        });
        String check = harness.check(t);
        return new Result(
                CLIENT,
                seconds,
                rows,
                null,
                written[0] == rows || !check.equals("yes") ? check : "wrote " + written[0] + " of " + rows + " rows");
    }

    static final String CLIENT = "JDBC keyset loop, one statement and COMMIT per batch";

    /** One statement run from here: the limit, or the PL/pgSQL loop ({@code loop}: see {@link Harness#asContender}). */
    Result sql(String table, String name, String statement, boolean loop) throws SQLException {
        String t = harness.copy(table);
        double seconds = harness.asContender(loop, () -> {
            long started = System.nanoTime();
            Harness.exec(harness.connection(), statement.formatted(t, chunk));
            return (System.nanoTime() - started) / 1e9;
        });
        return new Result(name, seconds, rows, null, harness.check(t));
    }

    Result offset() throws SQLException {
        String t = harness.copy("offset");
        Connection c = harness.connection();
        long[] done = {0};
        double seconds = harness.asContender(false, () -> {
            long started = System.nanoTime();
            long deadline = started + TimeUnit.SECONDS.toNanos(offsetBudget);
            try (PreparedStatement find = c.prepareStatement("SELECT min(id), max(id), count(*) FROM (SELECT id FROM "
                            + t + " ORDER BY id OFFSET ? LIMIT ?) b");
                    PreparedStatement update =
                            c.prepareStatement("UPDATE " + t + " SET " + KeyKind.SET + " WHERE id BETWEEN ? AND ?")) {
                while (System.nanoTime() < deadline) {
                    find.setLong(1, done[0]);
                    find.setInt(2, chunk);
                    long lo;
                    long hi;
                    long n;
                    try (ResultSet rs = find.executeQuery()) {
                        rs.next();
                        n = rs.getLong(3);
                        lo = rs.getLong(1);
                        hi = rs.getLong(2);
                    }
                    if (n == 0) {
                        break;
                    }
                    update.setLong(1, lo);
                    update.setLong(2, hi);
                    update.executeUpdate();
                    done[0] += n;
                }
            }
            return (System.nanoTime() - started) / 1e9;
        });
        boolean finished = done[0] >= rows;
        return new Result(
                "OFFSET loop (the common mistake)",
                seconds,
                done[0],
                null,
                finished ? harness.check(t) : "stopped after " + offsetBudget + " s");
    }

    Result jvm(String url, String contender, String name) throws Exception {
        // Validation checks a backfilled table: a copy of the limit's result of the same round.
        String t = harness.copy(
                contender.replace('-', '_'), contender.equals("sluice-validate") ? "bench_limit" : "bench_base");
        Path log = Files.createTempFile("sluice-bench-" + contender, ".log");
        // A job name of its own per run: the job of the same table in an earlier round (or an earlier bench on the
        // same scratch database, whose job repository was there before) is complete.
        Process p = contender(contender, t, "bench-" + t.replace('_', '-') + "-" + RUN + "-" + ++jvmRuns, url, 0, log);
        long peak = 0;
        while (!p.waitFor(50, TimeUnit.MILLISECONDS)) {
            peak = Math.max(peak, peakRssKb(p.pid()));
        }
        String out = Files.readString(log);
        Files.deleteIfExists(log);
        if (p.exitValue() != 0 || !out.contains("elapsed=")) {
            // Ended by SIGINT or SIGTERM: most likely with this JVM, whose clean-up then says so, not this result.
            server.awaitCleanUpIfInterrupted(
                    p.exitValue() == 130 || p.exitValue() == 143 ? SIGNALLED_GRACE : Duration.ZERO);
            // The exception's own line says more than the last line of its stack trace.
            String why = out.lines()
                    .filter(l -> l.contains("Exception: ") || l.startsWith("sluice"))
                    .findFirst()
                    .or(() -> out.lines().filter(l -> !l.isBlank()).reduce((a, b) -> b))
                    .orElse("exit " + p.exitValue());
            return new Result(name, 0, 0, peak == 0 ? null : peak, "failed: " + why.strip());
        }
        double seconds = Double.parseDouble(
                out.substring(out.lastIndexOf("elapsed=") + 8).trim().split("\\s", -1)[0]);
        return new Result(name, seconds, rows, peak == 0 ? null : peak, harness.check(t));
    }

    /** Starts a contender in a JVM of its own. */
    Process contender(String contender, String t, String job, String url, long rate, Path log) throws IOException {
        List<String> command = sluice(xmx);
        command.addAll(List.of(
                "bench-contender",
                contender,
                t,
                "--job",
                job,
                "--jdbc-url",
                url,
                "--chunk",
                String.valueOf(chunk),
                "--key",
                harness.key().option(),
                "--rows-per-second",
                String.valueOf(rate)));
        if (fixed) {
            command.add("--fixed-chunks");
        }
        ProcessBuilder pb =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(server.credentials());
        return server.start(pb);
    }

    /** The command that starts {@code sluice} in a JVM of its own, as this one was started; its arguments follow. */
    static List<String> sluice(String xmx) {
        // Started as 'java -jar sluice.jar', the class path is the jar; from an IDE or a test, the classes.
        String classPath = System.getProperty("java.class.path");
        List<String> command = new ArrayList<>(
                List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx" + xmx));
        // Started by scripts/sluice from its class-data-sharing archive: the contenders start from it too, as a user's
        // commands do.
        ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("-XX:SharedArchiveFile="))
                .forEach(command::add);
        if (classPath.endsWith(".jar") && !classPath.contains(File.pathSeparator)) {
            command.addAll(List.of("-jar", classPath));
        } else {
            command.addAll(List.of("-cp", classPath, "dev.sluice.jobs.cli.SluiceCommand"));
        }
        return command;
    }

    private static long peakRssKb(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("\\D", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            // the process ended between two looks, or this is not Linux
        }
        return 0;
    }
}
