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
        COUNT,
        /** An HTTP status: held on anything but 2xx. */
        STATUS
    }

    /** A reading in bytes ({@code bytes}) or else seconds. */
    public Reading(String subject, String what, double value, double limit, boolean bytes) {
        this(subject, what, value, limit, bytes ? Unit.BYTES : Unit.SECONDS);
    }

    /** A count against its maximum: sessions, vacuums, an operator's query's number. */
    public static Reading count(String subject, String what, double value, double max) {
        return new Reading(subject, what, value, max, Unit.COUNT);
    }

    /**
     * An HTTP endpoint's answer: 0 for 2xx (open), else the status (held); no hysteresis, an answer is what it says.
     */
    public static Reading status(String subject, int status) {
        return new Reading(subject, "answer", status / 100 == 2 ? 0 : status, 0, Unit.STATUS);
    }

    public boolean bytes() {
        return unit == Unit.BYTES;
    }

    /** The gate key: one gate per subject and quantity. */
    String gate() {
        return subject + " " + what;
    }

    /** What the reading says, whether it holds the job or not: {@code health.prometheus value 0.12 (holds above 0.5)}. */
    public String describeNow() {
        if (unit == Unit.STATUS) {
            return subject + " answers " + (value == 0 ? "2xx (chunks run)" : "HTTP " + format(value) + " (holds)");
        }
        return subject + " " + what + " " + format(value) + " (holds above " + format(limit) + ")";
    }

    String describe() {
        if (unit == Unit.STATUS) {
            return subject + " answered HTTP " + format(value);
        }
        return subject + " " + what + " " + format(value) + " > " + format(limit);
    }

    private String format(double v) {
        if (Double.isInfinite(v)) {
            return "unknown";
        }
        if (unit == Unit.COUNT || unit == Unit.STATUS) {
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
