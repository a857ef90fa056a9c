package dev.sluice.engine.spec;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A size in bytes as operators write it: {@code 1GB}, {@code 512MB}, {@code 64kB}, {@code 1048576}. Units are powers of 1024. */
public record ByteSize(long bytes) {

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kmgt]i?b|b)?", Pattern.CASE_INSENSITIVE);

    public ByteSize {
        if (bytes < 0) {
            throw new IllegalArgumentException("size must not be negative: " + bytes);
        }
    }

    /** @throws IllegalArgumentException naming the bad text */
    public static ByteSize parse(String text) {
        Matcher m = SIZE.matcher(text == null ? "" : text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("bad size '" + text + "' (write e.g. 512MB, 1GB, 1048576)");
        }
        long n;
        try {
            n = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) { // only digits, so too many of them
            throw tooLarge(text);
        }
        String unit =
                m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT).replace("i", "");
        int shift = switch (unit) {
            case "kb" -> 10;
            case "mb" -> 20;
            case "gb" -> 30;
            case "tb" -> 40;
            default -> 0;
        };
        if (shift > 0 && n > (Long.MAX_VALUE >> shift)) {
            throw tooLarge(text);
        }
        return new ByteSize(n << shift);
    }

    private static IllegalArgumentException tooLarge(String text) {
        return new IllegalArgumentException(text.trim() + " is too large (at most " + Long.MAX_VALUE + " bytes)");
    }

    @Override
    public String toString() {
        String[] units = {"B", "kB", "MB", "GB", "TB"};
        long n = bytes;
        int i = 0;
        while (i < units.length - 1 && n != 0 && n % 1024 == 0) {
            n /= 1024;
            i++;
        }
        return n + units[i];
    }
}
