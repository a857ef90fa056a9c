package dev.sluice.jobs.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The bench's table: every contender's runs, medians, and ratios to the limit run of the same round. */
final class Report {

    static final String LIMIT = "one UPDATE of the whole table";

    /** One run of one contender. */
    record Result(String name, double seconds, long rowsDone, Long peakRssKb, String correct) {

        double rate() {
            return seconds > 0 ? rowsDone / seconds : 0;
        }
    }

    private final Map<String, List<Result>> results = new LinkedHashMap<>();

    /** Records a run and says it in one line. */
    void add(Result r) {
        results.computeIfAbsent(r.name(), k -> new ArrayList<>()).add(r);
        System.out.printf(Locale.ROOT, "  %-57s %7.1f s  %s%n", r.name(), r.seconds(), r.correct());
    }

    /** Whether every contender that finished was correct (the OFFSET loop is stopped at its budget on purpose). */
    boolean allCorrect() {
        return results.values().stream()
                .flatMap(List::stream)
                .allMatch(r -> r.correct().equals("yes") || r.correct().startsWith("stopped"));
    }

    /**
     * One line per contender: medians of its runs; its ratio is the median of its rounds' ratios to the limit run
     * of the same round (a contender run once is compared with the limit's median).
     */
    void print() {
        List<Result> limits = results.get(LIMIT);
        double limitRate = Figures.median(limits.stream().mapToDouble(Result::rate));
        System.out.println();
        System.out.printf(
                Locale.ROOT,
                "%-57s %10s %8s %8s  %-20s %9s  %s%n",
                "contender",
                "rows/s",
                "wall s",
                "x limit",
                "x limit per round",
                "peak RSS",
                "correct");
        results.forEach((name, runs) -> {
            double[] ratios = new double[runs.size()];
            for (int i = 0; i < runs.size(); i++) {
                ratios[i] = runs.get(i).rate()
                        / (runs.size() == limits.size() ? limits.get(i).rate() : limitRate);
            }
            long rss = runs.stream()
                    .mapToLong(r -> r.peakRssKb() == null ? 0 : r.peakRssKb())
                    .max()
                    .orElse(0);
            String correct = runs.stream()
                    .map(Result::correct)
                    .filter(c -> !c.equals("yes"))
                    .findFirst()
                    .orElse("yes");
            System.out.printf(
                    Locale.ROOT,
                    "%-57s %,10.0f %8.1f %8.2f  %-20s %9s  %s%n",
                    name,
                    Figures.median(runs.stream().mapToDouble(Result::rate)),
                    Figures.median(runs.stream().mapToDouble(Result::seconds)),
                    Figures.median(Arrays.stream(ratios)),
                    runs.size() > 1 ? Figures.each(Arrays.stream(ratios)) : "-",
                    rss == 0 ? "-" : rss / 1024 + " MB",
                    correct);
        });
        paired(UNDO, PLAIN, "undo journal: wall time with it / without, same round (goal <= 1.15)");
        // The same rows both ways: the loop's wall time over Sluice's is Sluice's rows/s over the loop's.
        paired(
                Contenders.PLPGSQL,
                PLAIN,
                "SQL mode against the PL/pgSQL loop: rows/s ratio, same round (goal >= 0.9 with --fixed-chunks)");
        paired(
                Contenders.PLPGSQL,
                Contenders.CLIENT,
                "the JDBC loop against the PL/pgSQL loop: rows/s ratio, same round (what a round trip and a commit"
                        + " per batch from a client cost)");
        paired(
                Contenders.CLIENT,
                PLAIN,
                "SQL mode against the JDBC loop: rows/s ratio, same round (what Sluice adds to a client's least)");
        faster(
                JAVA_P2,
                SPRING_BATCH,
                "Java mode, parallel 2, against Spring Batch out of the box: rows/s ratio" + " (goal >= 3)");
    }

    /** The ratio of two contenders' median rates. */
    private void faster(String name, String base, String what) {
        List<Result> a = results.get(name);
        List<Result> b = results.get(base);
        if (a == null || b == null) {
            return;
        }
        double baseRate = Figures.median(b.stream().mapToDouble(Result::rate));
        if (baseRate > 0) {
            System.out.printf(
                    Locale.ROOT, "%s: %.2f%n", what, Figures.median(a.stream().mapToDouble(Result::rate)) / baseRate);
        }
    }

    static final String PLAIN = "Sluice, SQL mode, checkpoint per chunk";
    static final String UNDO = "Sluice, SQL mode, with its undo journal";
    static final String JAVA_P2 = "Sluice, Java transformer mode, parallel 2";
    static final String SPRING_BATCH = "Spring Batch: JdbcPagingItemReader + JdbcBatchItemWriter";

    /** The ratio of two contenders' wall times, round by round (each round runs both), and its median. */
    private void paired(String name, String base, String what) {
        List<Result> a = results.get(name);
        List<Result> b = results.get(base);
        if (a == null || b == null || a.size() != b.size()) {
            return;
        }
        double[] ratios = new double[a.size()];
        for (int i = 0; i < ratios.length; i++) {
            ratios[i] = a.get(i).seconds() / b.get(i).seconds();
        }
        System.out.printf(
                Locale.ROOT,
                "%s: %.2f (rounds %s)%n",
                what,
                Figures.median(Arrays.stream(ratios)),
                Figures.each(Arrays.stream(ratios)));
    }
}
