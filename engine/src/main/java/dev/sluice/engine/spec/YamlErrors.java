package dev.sluice.engine.spec;

import java.util.Optional;

import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;

import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.TokenStreamContext;

/**
 * Words a YAML syntax error for an operator, in one line: the key it was read under, where it is (the YAML parser's
 * own line and column), what the parser found, and the usual fix. Most come from an unquoted expression: a {@code :}
 * or a {@code ,} inside it reads as YAML, not as SQL.
 */
public final class YamlErrors {

    private static final String QUOTE = "quote a value or expression that holds ': ' or ',', e.g. where: \"a: b\"";

    private YamlErrors() {}

    /** Whether {@code e} is a syntax error of the YAML text (not a value of the wrong kind). */
    public static boolean isSyntax(JacksonException e) {
        return e.getCause() instanceof MarkedYamlEngineException;
    }

    /**
     * The key whose value the parser was reading when it failed ({@code set.v}, {@code validate[0].check}), or the
     * mapping it was in between keys; empty at the top.
     */
    public static String field(JacksonException e) {
        if (!(e.processor() instanceof JsonParser p) || p.isClosed() || p.streamReadContext() == null) {
            return "";
        }
        TokenStreamContext context = p.streamReadContext();
        if (p.currentToken() != JsonToken.PROPERTY_NAME && context.inObject() && !onTheLineOf(p, e)) {
            context = context.getParent(); // after a key's value, on another line: the mapping's error, not the key's
        }
        return path(context);
    }

    /** Whether the error is on the line of the parser's last token (the value it belongs to). */
    private static boolean onTheLineOf(JsonParser p, JacksonException e) {
        Optional<Mark> mark =
                e.getCause() instanceof MarkedYamlEngineException y ? y.getProblemMark() : Optional.empty();
        return p.currentTokenLocation() != null
                && mark.isPresent()
                && p.currentTokenLocation().getLineNr() == mark.get().getLine() + 1;
    }

    /** {@code not valid YAML at line 3, column 12: expected ',' or '}', but got ':' (hint)}. */
    public static String describe(JacksonException e) {
        if (!(e.getCause() instanceof MarkedYamlEngineException y)) {
            String message = e.getOriginalMessage() == null ? String.valueOf(e.getMessage()) : e.getOriginalMessage();
            return "not valid YAML: " + message.lines().findFirst().orElse("");
        }
        Optional<Mark> mark = y.getProblemMark().or(y::getContextMark);
        String where = mark.map(m -> " at line " + (m.getLine() + 1) + ", column " + (m.getColumn() + 1))
                .orElse("");
        String problem = y.getProblem() == null ? String.valueOf(y.getContext()) : y.getProblem();
        return "not valid YAML" + where + ": "
                + problem.lines().findFirst().orElse("").strip() + hint(y);
    }

    private static String hint(MarkedYamlEngineException y) {
        String problem = String.valueOf(y.getProblem());
        String context = String.valueOf(y.getContext());
        if (problem.contains("mapping values are not allowed")
                || context.contains("flow mapping")
                || context.contains("flow sequence")
                || problem.contains("expected <block end>")) {
            return " (" + QUOTE + ")";
        }
        if (problem.contains("cannot start any token")) {
            return " (quote a value that starts with this character)";
        }
        return "";
    }

    /** A stream position as the spec's fields are named: {@code health.query.sql}, {@code validate[0].check}. */
    private static String path(TokenStreamContext context) {
        if (context == null || context.inRoot()) {
            return "";
        }
        String parent = path(context.getParent());
        if (context.inArray()) {
            return parent + "[" + Math.max(0, context.getCurrentIndex()) + "]";
        }
        String name = context.currentName();
        if (name == null) {
            return parent;
        }
        return parent.isEmpty() ? name : parent + "." + name;
    }
}
