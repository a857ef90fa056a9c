package dev.sluice.engine;

/**
 * The rows whose key is in {@code (lo, hi]}, in the key index's order; {@code lo == null} means from the start.
 *
 * @param rows how many rows the range held when it was found
 */
public record KeyRange(Key lo, Key hi, long rows) {

    @Override
    public String toString() {
        return "(" + (lo == null ? "start" : lo) + ", " + hi + "]";
    }
}
