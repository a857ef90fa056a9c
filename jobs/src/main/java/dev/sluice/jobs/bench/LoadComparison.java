package dev.sluice.jobs.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code sluice bench --load}: what a throttled backfill costs live traffic. pgbench (TPC-B) runs for a fixed
 * time alone, then again while Sluice backfills with a rows-per-second limit; both results are printed side by
 * side with the backfill's achieved rate.
 */
final class LoadComparison {

    /** What one pgbench run reported. */
    record Pgbench(double tps, double latencyMs, long failed) {
    }

    private LoadComparison() {
    }

    static String version() {
        try {
            Process p = new ProcessBuilder("pgbench", "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            return p.waitFor() == 0 ? out : null;
        } catch (IOException | InterruptedException e) {
            return null;
        }
    }

    static void init(int port, int scale) throws IOException, InterruptedException {
        run(List.of("pgbench", "-i", "-q", "-s", String.valueOf(scale), "-h", "localhost", "-p", String.valueOf(port),
                "-U", "postgres", "postgres"));
    }

    static Pgbench pgbench(int port, int seconds, int clients) throws IOException, InterruptedException {
        String out = run(List.of("pgbench", "-c", String.valueOf(clients), "-j", "1", "-T", String.valueOf(seconds),
                "-h", "localhost", "-p", String.valueOf(port), "-U", "postgres", "postgres"));
        return new Pgbench(number(out, "tps = ([0-9.]+)"), number(out, "latency average = ([0-9.]+) ms"),
                (long) number(out, "number of failed transactions: ([0-9]+)"));
    }

    private static double number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        if (!m.find()) {
            throw new IllegalStateException("pgbench printed no '" + regex + "':\n" + text);
        }
        return Double.parseDouble(m.group(1));
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Path log = Files.createTempFile("sluice-pgbench", ".log");
        try {
            Process p = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException("pgbench failed:\n" + Files.readString(log));
            }
            return Files.readString(log);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    static void print(Pgbench alone, Pgbench loaded, double backfillRate, long limit) {
        System.out.println();
        System.out.printf(Locale.ROOT, "%-34s %10s %14s %8s%n", "pgbench (TPC-B)", "tps", "latency ms", "failed");
        System.out.printf(Locale.ROOT, "%-34s %10.1f %14.2f %8d%n", "alone", alone.tps(), alone.latencyMs(), alone.failed());
        System.out.printf(Locale.ROOT, "%-34s %10.1f %14.2f %8d%n", "with Sluice at " + limit + " rows/s", loaded.tps(),
                loaded.latencyMs(), loaded.failed());
        System.out.printf(Locale.ROOT, "latency ratio %.2f (goal <= 1.2), tps ratio %.2f; the backfill achieved %,.0f rows/s%n",
                loaded.latencyMs() / alone.latencyMs(), loaded.tps() / alone.tps(), backfillRate);
    }
}
