package dev.sluice.jobs.bench;

import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.DoubleStream;

/** How the bench reports a few runs of one measurement: their median, and each of them. */
final class Figures {

    private Figures() {}

    /** The median: one slow run on a shared machine moves it less than it moves a mean. */
    static double median(DoubleStream values) {
        double[] v = values.sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** Each value with two decimals, in run order: {@code 0.81 0.70 0.81}. */
    static String each(DoubleStream values) {
        return values.mapToObj(v -> String.format(Locale.ROOT, "%.2f", v)).collect(Collectors.joining(" "));
    }
}
