package dev.sluice.engine;

/** One line of a preflight: what was checked and what was found. A failed check is a SpecException instead. */
public record Finding(Level level, String check, String detail) {

    public enum Level {
        OK,
        WARN
    }

    public static Finding ok(String check, String detail) {
        return new Finding(Level.OK, check, detail);
    }

    public static Finding warn(String check, String detail) {
        return new Finding(Level.WARN, check, detail);
    }
}
