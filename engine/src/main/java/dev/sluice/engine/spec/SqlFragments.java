package dev.sluice.engine.spec;

import java.util.ArrayList;
import java.util.List;

import org.postgresql.core.Parser;

/**
 * Operator-written SQL (an expression, a filter) is pasted into the statements Sluice builds, always inside
 * parentheses. Each must therefore be exactly one expression: it must not end the statement ({@code ;}), close the
 * parenthesis it is pasted into, or leave a quote or comment open that would swallow the rest of the statement.
 *
 * <p>The text is read with the PostgreSQL JDBC driver's own lexer ({@link Parser}: single quotes with and without
 * backslash escapes, {@code E''} strings, double quotes, dollar quotes with and without tags, line comments and
 * nested block comments), the same rules by which the driver splits a statement at {@code ;} and finds its
 * {@code ?} parameters. So no quoting form reads differently here than when the driver sends the statement. The
 * text must read the same with {@code standard_conforming_strings} on and off (the setting is the session's, and
 * an expression may change it); preflight repeats the decision with the server's parser
 * ({@code preflight.OneStatement}).
 *
 * <p>Where the driver's lexer is known to read a text differently from the server's, the text is refused rather
 * than trusted: an {@code E''} string followed by another quote (the server reads {@code ''} inside it, or a
 * string continued on the next line, as part of the same escaped string; the driver does not), an {@code E'}
 * after a character that ends an identifier for the server but not for the driver (a quote, a digit), and a
 * dollar quote right after a digit (a dollar quote to the server, not to the driver). Each could let the server
 * see a {@code )} that the driver took for a quoted character.
 */
public final class SqlFragments {

    private SqlFragments() {}

    /** @throws SpecException naming {@code field} if the fragment is not one self-contained expression */
    public static void check(String field, String sql) {
        if (sql == null) {
            return;
        }
        if (sql.isBlank()) {
            throw new SpecException(field, "empty expression");
        }
        if (sql.indexOf('\0') >= 0) {
            throw new SpecException(field, "contains a NUL character, which PostgreSQL does not accept in a statement");
        }
        // standard_conforming_strings is a setting of the session, and an expression can change it as it runs
        // (set_config): the text must read the same whichever way a backslash in a plain '...' string is taken.
        List<Integer> standard = check(field, sql, true);
        List<Integer> escaped = check(field, sql, false);
        if (!standard.equals(escaped)) {
            throw new SpecException(
                    field,
                    "a backslash before a quote in a '...' string reads differently with"
                            + " standard_conforming_strings on and off, so it cannot be proved to be one expression; write the"
                            + " quote as '' or use an E'...' string");
        }
        new Walk(sql, true) {
            @Override
            void quoted(String text) {
                if (JdbcUrl.holdsPassword(text)) {
                    throw new SpecException(
                            field,
                            "must not carry a password (specs are recorded with the job): a"
                                    + " connection string in it holds one; let the server find it in a password file (.pgpass)"
                                    + " or a user mapping");
                }
            }
        }.run();
    }

    /** The fragment's code characters (outside quotes and comments), by index, read with one setting. */
    private static List<Integer> check(String field, String sql, boolean standardConformingStrings) {
        List<Integer> code = new ArrayList<>();
        new Walk(sql, standardConformingStrings) {
            @Override
            void code(char c, int depth, int index) {
                code.add(index);
                if (c == ';') {
                    throw new SpecException(field, "must be exactly one SQL expression: ';' would end the statement");
                }
                if (depth < 0) {
                    throw new SpecException(
                            field,
                            "must be exactly one SQL expression: this ')' closes a parenthesis" + " it did not open");
                }
            }

            @Override
            void unterminated(String what) {
                throw new SpecException(field, "must be exactly one SQL expression: " + what + " is not closed");
            }

            @Override
            void ambiguous(String what) {
                throw new SpecException(
                        field,
                        what + ": the JDBC driver and PostgreSQL would read its quotes"
                                + " differently, so it cannot be proved to be one expression; write it another way");
            }

            @Override
            void end(int depth) {
                if (depth != 0) {
                    throw new SpecException(
                            field,
                            "must be exactly one SQL expression: " + depth + " '(' not closed"
                                    + " (inside a YAML { } mapping, quote an expression that contains commas)");
                }
            }
        }.run();
        return code;
    }

    /**
     * The fragment as the driver must receive it in a prepared statement: each {@code ?} outside quotes and comments
     * doubled, so that operators such as jsonb's {@code ?} and {@code ?|} are not taken for parameters.
     */
    public static String forJdbc(String sql) {
        StringBuilder out = new StringBuilder(sql.length() + 4);
        new Walk(sql, true) {
            @Override
            void code(char c, int depth, int index) {
                if (c == '?') {
                    out.append('?');
                }
            }
        }.run(out);
        return out.toString();
    }

    /**
     * One pass over a fragment as the driver's lexer sees it when the fragment follows {@code (}: every character
     * outside quotes and comments goes to {@link #code} with the parenthesis depth after it. A walk overrides what it
     * listens to; the rest it ignores.
     */
    private static class Walk {

        // The fragment always follows "(" in a statement; the driver recognises E'' strings and dollar quotes by
        // the character before them, so it is read in that context.
        private static final String CONTEXT = "(";

        private final char[] text;
        private final boolean standardConformingStrings;

        Walk(String sql, boolean standardConformingStrings) {
            this.text = (CONTEXT + sql).toCharArray();
            this.standardConformingStrings = standardConformingStrings;
        }

        /** @param index the character's index in the fragment */
        void code(char c, int depth, int index) {}

        void unterminated(String what) {}

        /** A quoted string, quoted identifier or comment, as written (quotes included). */
        void quoted(String text) {}

        void ambiguous(String what) {}

        void end(int depth) {}

        void run() {
            run(null);
        }

        /** @param copy receives the fragment's characters as read, or null */
        void run(StringBuilder copy) {
            int depth = 0;
            int i = CONTEXT.length();
            while (i < text.length) {
                char c = text[i];
                guard(i);
                int last = skipped(i);
                if (last != i || isCommentStart(i)) {
                    if (last >= text.length || (last == text.length - 1 && isLineComment(i) && !endsLine(text[last]))) {
                        unterminated(describe(i));
                        last = text.length - 1;
                    }
                    append(copy, i, last);
                    quoted(new String(text, i, Math.min(last, text.length - 1) - i + 1));
                    i = last + 1;
                    continue;
                }
                if (c == '(') {
                    depth++;
                } else if (c == ')') {
                    depth--;
                }
                code(c, depth, i - CONTEXT.length());
                append(copy, i, i);
                i++;
            }
            end(depth);
        }

        /** Refuses the texts that the driver's lexer and the server's read differently (see the class comment). */
        private void guard(int i) {
            char p = text[i - 1];
            if (text[i] == '\'' && (p == 'E' || p == 'e') && i >= 2) {
                char before = text[i - 2];
                boolean driver = Parser.charTerminatesIdentifier(before);
                boolean server = !Parser.isIdentifierContChar(before) || endsNumber(i - 2);
                if (driver != server) {
                    ambiguous("'" + excerpt(i - 2) + "'");
                }
                if (driver && standardConformingStrings) {
                    int end = Parser.parseSingleQuotes(text, i, true);
                    int next = end + 1;
                    while (next < text.length && Character.isWhitespace(text[next])) {
                        next++;
                    }
                    if (next < text.length && text[next] == '\'') {
                        ambiguous("an E'' string followed by another quote (write a quote inside it as \\')");
                    }
                }
            }
            if (text[i] == '$'
                    && endsNumber(i - 1)
                    && i + 1 < text.length
                    && (text[i + 1] == '$' || Parser.isDollarQuoteStartChar(text[i + 1]))) {
                ambiguous("a dollar quote right after a number, '" + excerpt(i - 1) + "'");
            }
        }

        /** Whether {@code text[at]} ends a number rather than a name: the word it ends is all digits. */
        private boolean endsNumber(int at) {
            int from = at;
            while (from >= 0 && Parser.isIdentifierContChar(text[from])) {
                from--;
            }
            if (from == at) {
                return false;
            }
            for (int k = from + 1; k <= at; k++) {
                if (!Character.isDigit(text[k])) {
                    return false;
                }
            }
            return true;
        }

        /** The index of the last character of the quote or comment starting at {@code i}, else {@code i}. */
        private int skipped(int i) {
            return switch (text[i]) {
                case '\'' -> Parser.parseSingleQuotes(text, i, standardConformingStrings);
                case '"' -> Parser.parseDoubleQuotes(text, i);
                case '$' -> Parser.parseDollarQuotes(text, i);
                case '-' -> Parser.parseLineComment(text, i);
                case '/' -> Parser.parseBlockComment(text, i);
                default -> i;
            };
        }

        private boolean isCommentStart(int i) {
            return i + 1 < text.length
                    && ((text[i] == '-' && text[i + 1] == '-') || (text[i] == '/' && text[i + 1] == '*'));
        }

        private boolean isLineComment(int i) {
            return text[i] == '-' && i + 1 < text.length && text[i + 1] == '-';
        }

        private static boolean endsLine(char c) {
            return c == '\n' || c == '\r';
        }

        private String describe(int i) {
            return switch (text[i]) {
                case '\'' -> "a string starting at '" + excerpt(i) + "'";
                case '"' -> "a quoted identifier starting at '" + excerpt(i) + "'";
                case '$' -> "a dollar-quoted string starting at '" + excerpt(i) + "'";
                case '-' -> "a -- comment (end it with a line break)";
                default -> "a /* comment starting at '" + excerpt(i) + "'";
            };
        }

        private String excerpt(int i) {
            int end = Math.min(text.length, i + 12);
            return new String(text, i, end - i) + (end < text.length ? "..." : "");
        }

        private void append(StringBuilder copy, int from, int to) {
            if (copy != null) {
                copy.append(text, from, Math.min(to, text.length - 1) - from + 1);
            }
        }
    }
}
