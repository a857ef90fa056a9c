package dev.sluice.jobs.bench;

import java.io.IOException;
import java.nio.charset.Charset;
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
 * time alone, then again while Sluice backfills with a rows-per-second limit, in alternating rounds; the results
 * are printed side by side with the backfill's achieved rate.
 */
final class LoadComparison {

    /** What one pgbench run reported. */
    record Pgbench(double tps, double latencyMs, long failed) {}

    private LoadComparison() {}

    static String version() {
        try {
            Process p = new ProcessBuilder("pgbench", "--version")
                    .redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), Charset.defaultCharset()).trim();
            return p.waitFor() == 0 ? out : null;
        } catch (IOException | InterruptedException e) {
            return null;
        }
    }

    static void init(int port, int scale) throws IOException, InterruptedException {
        runPgbench(port, "-i", "-q", "-s", String.valueOf(scale));
    }

    static Pgbench pgbench(int port, int seconds, int clients) throws IOException, InterruptedException {
        String out = runPgbench(port, "-c", String.valueOf(clients), "-j", "1", "-T", String.valueOf(seconds));
        return new Pgbench(number(out, "tps = ([0-9.]+)"), number(out, "latency average = ([0-9.]+) ms"), (long)
                number(out, "number of failed transactions: ([0-9]+)"));
    }

    /** pgbench with {@code args}, against the database {@code postgres} of the server on {@code port}; its output. */
    private static String runPgbench(int port, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("pgbench"));
        command.addAll(List.of(args));
        command.addAll(List.of("-h", "localhost", "-p", String.valueOf(port), "-U", "postgres", "postgres"));
        return run(command);
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
            Process p = new ProcessBuilder(new ArrayList<>(command))
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException("pgbench failed:\n" + Files.readString(log));
            }
            return Files.readString(log);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** One round at one rate: pgbench alone, then with the backfill, and the rate the backfill achieved meanwhile. */
    record Round(long limit, Pgbench alone, Pgbench loaded, double achieved) {

        double latencyRatio() {
            return loaded.latencyMs() / alone.latencyMs();
        }
    }

    /** One line per rate: medians over its rounds, the ratios of every round, and the failed transactions. */
    static void print(List<Round> rounds) {
        System.out.println();
        System.out.printf(
                Locale.ROOT,
                "%-22s %11s %11s %11s %11s %8s %-16s %13s %7s%n",
                "backfill limit",
                "tps alone",
                "tps with",
                "latency ms",
                "latency ms",
                "ratio",
                "ratio per round",
                "backfill",
                "failed");
        System.out.printf(
                Locale.ROOT,
                "%-22s %11s %11s %11s %11s %8s %-16s %13s %7s%n",
                "",
                "",
                "",
                "alone",
                "with",
                "",
                "",
                "rows/s",
                "");
        rounds.stream().map(Round::limit).distinct().forEach(limit -> {
            List<Round> rs = rounds.stream().filter(r -> r.limit() == limit).toList();
            System.out.printf(
                    Locale.ROOT,
                    "%-22s %,11.0f %,11.0f %11.2f %11.2f %8.2f %-16s %,13.0f %7d%n",
                    String.format(Locale.ROOT, "%,d rows/s", limit),
                    Figures.median(rs.stream().mapToDouble(r -> r.alone().tps())),
                    Figures.median(rs.stream().mapToDouble(r -> r.loaded().tps())),
                    Figures.median(rs.stream().mapToDouble(r -> r.alone().latencyMs())),
                    Figures.median(rs.stream().mapToDouble(r -> r.loaded().latencyMs())),
                    Figures.median(rs.stream().mapToDouble(Round::latencyRatio)),
                    Figures.each(rs.stream().mapToDouble(Round::latencyRatio)),
                    Figures.median(rs.stream().mapToDouble(Round::achieved)),
                    rs.stream()
                            .mapToLong(r -> r.alone().failed() + r.loaded().failed())
                            .sum());
        });
        System.out.println("ratio: mean latency with the backfill / alone, median over rounds (goal <= 1.2)");
    }
}
