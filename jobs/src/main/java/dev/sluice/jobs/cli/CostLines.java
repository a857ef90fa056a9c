package dev.sluice.jobs.cli;

import java.math.BigDecimal;
import java.math.MathContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.sluice.engine.CostEstimate;
import dev.sluice.engine.KeyRange;

/** A cost estimate in the words {@code plan} and the demo print. */
public final class CostLines {

    private CostLines() {}

    /** The estimate in the lines {@code plan} prints. */
    public static List<String> of(CostEstimate r) {
        List<String> out = new ArrayList<>();
        if (r.sampleRows() == 0) {
            out.add("the table has no rows: nothing to write");
            return out;
        }
        out.add(String.format(
                Locale.ROOT,
                "sample: %,d rows written and rolled back: %s of WAL a row, %s ms a row",
                r.sampleRows(),
                size(r.walPerRow()),
                millis(r.secondsPerRow() * 1000)));
        out.add(String.format(
                Locale.ROOT,
                "whole run: ~%,d rows, ~%s of WAL, ~%s at the configured throttle",
                r.rows(),
                size(r.walBytes()),
                duration(r.seconds())));
        out.add(
                r.indexedTargets().isEmpty()
                        ? String.format(
                                Locale.ROOT,
                                "updates can be HOT (no index reads a written column; fillfactor %d%s)",
                                r.fillfactor(),
                                r.hotShare() < 0
                                        ? ""
                                        : String.format(
                                                Locale.ROOT,
                                                ", %.0f%% of past updates were" + " HOT",
                                                r.hotShare() * 100))
                        : String.format(
                                Locale.ROOT, "updates cannot be HOT: %d index entries written per row", r.indexes()));
        out.add(String.format(Locale.ROOT, "dead row versions left for vacuum: ~%,d", r.rows()));
        out.add(
                r.ranges().size() == 1
                        ? "parallel: 1 (one key range, the whole table)"
                        : String.format(
                                Locale.ROOT,
                                "parallel: %d ranges of about equal rows, worked at once, each a partition"
                                        + " with its own checkpoint:",
                                r.ranges().size()));
        if (r.ranges().size() > 1) {
            for (int i = 0; i < r.ranges().size(); i++) {
                KeyRange range = r.ranges().get(i);
                out.add(String.format(
                        Locale.ROOT,
                        "  range %d: keys (%s, %s]  ~%,d rows",
                        i + 1,
                        range.lo() == null
                                ? "start"
                                : String.join(", ", range.lo().values()),
                        range.hi() == null
                                ? "end"
                                : String.join(", ", range.hi().values()),
                        range.rows()));
            }
        }
        int chunks = r.connections() - r.runnerConnections();
        out.add(String.format(
                Locale.ROOT,
                "connections: up to %d to the target database (%s, the runner's lock, its"
                        + " throttle record and the operators' mailbox)%s",
                r.connections(),
                r.ranges().size() > 1
                        ? "one per partition while its chunk runs"
                        : chunks > 1
                                ? "two while a chunk runs: it reads the next one" + " ahead"
                                : "one while a chunk runs",
                r.sourceConnections() == 0
                        ? ""
                        : String.format(Locale.ROOT, ", and %d to the source database", r.sourceConnections())));
        r.recommendations().forEach(a -> out.add("recommendation: " + a));
        return out;
    }

    /** A size in the unit that reads best: whole bytes below a kilobyte, one decimal above. */
    private static String size(double bytes) {
        String[] units = {"B", "kB", "MB", "GB", "TB"};
        int u = 0;
        while (bytes >= 1024 && u < units.length - 1) {
            bytes /= 1024;
            u++;
        }
        return u == 0
                ? String.format(Locale.ROOT, "%.0f B", bytes)
                : String.format(Locale.ROOT, "%.1f %s", bytes, units[u]);
    }

    /** Milliseconds to two significant digits (0.12, 1.2, 12), never a long tail of zeros. */
    private static String millis(double ms) {
        if (ms >= 10) {
            return String.format(Locale.ROOT, "%.0f", ms);
        }
        if (ms <= 0) {
            return "0";
        }
        return new BigDecimal(ms).round(new MathContext(2)).stripTrailingZeros().toPlainString();
    }

    private static String duration(double seconds) {
        Duration d = Duration.ofMillis(Math.round(seconds * 1000));
        return d.toHours() > 0
                ? d.toHours() + "h" + String.format(Locale.ROOT, "%02dm", d.toMinutesPart())
                : d.toMinutes() > 0
                        ? d.toMinutes() + "m" + String.format(Locale.ROOT, "%02ds", d.toSecondsPart())
                        : String.format(Locale.ROOT, "%.1fs", seconds);
    }
}
