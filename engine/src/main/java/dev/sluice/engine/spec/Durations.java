package dev.sluice.engine.spec;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses the durations operators write in specs and on the command line: {@code 250ms}, {@code 2s}, {@code 5m}, {@code 1h}, {@code 0}. */
public final class Durations {

    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h|d)?");
    /**
     * The longest duration Sluice takes, about 24 days: PostgreSQL's own timeouts stop there (2^31 - 1 ms), no pause,
     * poll or limit means anything beyond days, and the runner adds durations to clock readings that a larger one
     * would overflow.
     */
    public static final Duration MAX = Duration.ofMillis(Integer.MAX_VALUE);

    private Durations() {}

    /** @throws IllegalArgumentException naming the bad text */
    public static Duration parse(String text) {
        Matcher m = DURATION.matcher(text == null ? "" : text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("bad duration '" + text + "' (write e.g. 250ms, 2s, 5m, 1h)");
        }
        double amount = Double.parseDouble(m.group(1));
        String unit = m.group(2);
        if (unit == null) {
            if (amount != 0) {
                throw new IllegalArgumentException("duration '" + text + "' needs a unit (ms, s, m, h or d)");
            }
            return Duration.ZERO;
        }
        double millis = switch (unit) {
            case "ms" -> amount;
            case "s" -> amount * 1_000;
            case "m" -> amount * 60_000;
            case "h" -> amount * 3_600_000;
            default -> amount * 86_400_000;
        };
        if (millis > MAX.toMillis()) {
            throw new IllegalArgumentException(
                    text.trim() + " is too long (at most " + MAX.toMillis() + "ms, about " + MAX.toDays() + " days)");
        }
        return Duration.ofMillis(Math.round(millis));
    }

    /** The shortest exact spelling, so that a recorded spec reads like the one the operator wrote. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms == 0) {
            return "0ms";
        }
        if (ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1_000 == 0) {
            return ms / 1_000 + "s";
        }
        return ms + "ms";
    }
}
