package dev.sluice.engine.spec;

/**
 * A job spec that cannot be run as written: names the field and the problem in one line, so that an operator
 * can fix the YAML without reading a stack trace. Thrown before anything is written.
 */
public class SpecException extends RuntimeException {

    private final String field;

    public SpecException(String field, String problem) {
        super(field == null || field.isEmpty() ? problem : field + ": " + problem);
        this.field = field;
    }

    /** The dotted path of the offending field in the spec ({@code chunk.target}), or empty for the whole spec. */
    public String field() {
        return field == null ? "" : field;
    }
}
