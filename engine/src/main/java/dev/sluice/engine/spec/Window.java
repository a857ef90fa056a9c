package dev.sluice.engine.spec;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A daily time window, {@code 01:00-05:00 Europe/Berlin}: jobs run only inside it. A window may cross midnight
 * ({@code 22:00-02:00 UTC}); the zone defaults to UTC.
 */
public record Window(LocalTime start, LocalTime end, ZoneId zone) {

    private static final Pattern FORMAT = Pattern.compile("(\\d{1,2}:\\d{2})\\s*-\\s*(\\d{1,2}:\\d{2})(?:\\s+(\\S+))?");

    /** @throws SpecException naming {@code schedule.window} if the text is not a window */
    public static Window parse(String text) {
        Matcher m = FORMAT.matcher(text == null ? "" : text.trim());
        if (!m.matches()) {
            throw new SpecException(
                    "schedule.window", "'" + text + "' is not a window (write e.g. 01:00-05:00 Europe/Berlin)");
        }
        try {
            LocalTime start = LocalTime.parse(pad(m.group(1)));
            LocalTime end = LocalTime.parse(pad(m.group(2)));
            if (start.equals(end)) {
                throw new SpecException("schedule.window", "'" + text + "' starts and ends at the same time");
            }
            return new Window(start, end, m.group(3) == null ? ZoneId.of("UTC") : ZoneId.of(m.group(3)));
        } catch (DateTimeException e) {
            throw new SpecException("schedule.window", "'" + text + "': " + e.getMessage());
        }
    }

    public boolean isOpen(Instant now) {
        LocalTime t = now.atZone(zone).toLocalTime();
        return start.isBefore(end) ? !t.isBefore(start) && t.isBefore(end) : !t.isBefore(start) || t.isBefore(end);
    }

    private static String pad(String hhmm) {
        return hhmm.length() == 4 ? "0" + hhmm : hhmm;
    }
}
