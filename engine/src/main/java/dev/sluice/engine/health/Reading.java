package dev.sluice.engine.health;

import java.util.Locale;

/**
 * One measurement against its limit: {@code replica standby-1 replay lag 12.4s (limit 5s)}.
 *
 * @param subject what was measured ({@code replica standby-1}), also the gate it feeds
 * @param what    which quantity ({@code replay lag})
 * @param unit    what the value counts: seconds, bytes, or things (sessions, vacuums, an operator's query's number)
 */
public record Reading(String subject, String what, double value, double limit, Unit unit) {

    /** What a reading's value counts. */
    public enum Unit {
        SECONDS,
        BYTES,
        COUNT
    }

    /** A reading in bytes ({@code bytes}) or else seconds. */
    public Reading(String subject, String what, double value, double limit, boolean bytes) {
        this(subject, what, value, limit, bytes ? Unit.BYTES : Unit.SECONDS);
    }

    /** A count against its maximum: sessions, vacuums, an operator's query's number. */
    public static Reading count(String subject, String what, double value, double max) {
        return new Reading(subject, what, value, max, Unit.COUNT);
    }

    public boolean bytes() {
        return unit == Unit.BYTES;
    }

    /** The gate key: one gate per subject and quantity. */
    String gate() {
        return subject + " " + what;
    }

    String describe() {
        return subject + " " + what + " " + format(value) + " > " + format(limit);
    }

    private String format(double v) {
        if (Double.isInfinite(v)) {
            return "unknown";
        }
        if (unit == Unit.COUNT) {
            return v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2f", v);
        }
        if (unit == Unit.BYTES) {
            return v >= 1 << 20
                    ? String.format(Locale.ROOT, "%.1fMB", v / (1 << 20))
                    : String.format(Locale.ROOT, "%.0fB", v);
        }
        return String.format(Locale.ROOT, "%.1fs", v);
    }
}
