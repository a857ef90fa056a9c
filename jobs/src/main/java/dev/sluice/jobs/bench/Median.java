package dev.sluice.jobs.bench;

import java.util.stream.DoubleStream;

/** The median of a few measurements: one slow run on a shared machine moves it less than it moves a mean. */
final class Median {

    private Median() {
    }

    static double of(DoubleStream values) {
        double[] v = values.sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
