package dev.sluice.jobs;

import java.util.ArrayList;
import java.util.List;

/** Samples of a Prometheus text exposition as promtool's input series: each value held for the test's span. */
final class PromSeries {

    private PromSeries() {}

    /**
     * The {@code sluice_} samples of {@code exposition} as YAML {@code input_series} entries (indented for a test
     * group), each value repeated {@code samples} times; {@code extraLabels} ({@code job="x"}) are added as a scrape
     * adds its target's labels. NaN samples are left out (promtool's series notation has no NaN).
     */
    static String inputSeries(String exposition, String extraLabels, int samples) {
        List<String> out = new ArrayList<>();
        for (String line : exposition.lines().toList()) {
            if (!line.startsWith("sluice_")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            String series = line.substring(0, space).strip();
            String value = line.substring(space + 1).strip();
            if (value.equalsIgnoreCase("NaN")) {
                continue;
            }
            if (!extraLabels.isEmpty()) {
                series = series.endsWith("}")
                        ? series.substring(0, series.length() - 1) + "," + extraLabels + "}"
                        : series + "{" + extraLabels + "}";
            }
            out.add("      - series: '" + series.replace("'", "''") + "'\n        values: '" + value + "+0x" + samples
                    + "'");
        }
        return String.join("\n", out) + "\n";
    }

    /** Text for a single-quoted YAML scalar. */
    static String quoted(String text) {
        return "'" + text.replace("'", "''") + "'";
    }
}
