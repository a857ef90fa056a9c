package dev.sluice.engine.health;

import java.util.Locale;

/**
 * One measurement against its limit: {@code replica standby-1 replay lag 12.4s (limit 5s)}.
 *
 * @param subject what was measured ({@code replica standby-1}), also the gate it feeds
 * @param what    which quantity ({@code replay lag})
 * @param bytes   whether the value is bytes (else seconds)
 */
public record Reading(String subject, String what, double value, double limit, boolean bytes) {

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
        if (bytes) {
            return v >= 1 << 20 ? String.format(Locale.ROOT, "%.1fMB", v / (1 << 20)) : String.format(Locale.ROOT, "%.0fB", v);
        }
        return String.format(Locale.ROOT, "%.1fs", v);
    }
}
