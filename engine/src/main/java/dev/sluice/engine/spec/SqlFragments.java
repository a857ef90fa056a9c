package dev.sluice.engine.spec;

/**
 * Operator-written SQL (expressions, filters) is pasted into statements, so each fragment must be one
 * expression: no statement separators and no comments that could swallow the rest of the statement.
 * Type-checking happens later, against the real table (preflight).
 */
public final class SqlFragments {

    private SqlFragments() {
    }

    /** @throws SpecException if the fragment could end or comment out the statement it is pasted into */
    public static void check(String field, String sql) {
        if (sql == null) {
            return;
        }
        int depth = 0;
        for (int i = 0; i < sql.length(); i++) {
            char c = sql.charAt(i);
            if (c == '\'' || c == '"') {
                int end = sql.indexOf(c, i + 1);
                while (end >= 0 && end + 1 < sql.length() && sql.charAt(end + 1) == c) {
                    end = sql.indexOf(c, end + 2);
                }
                if (end < 0) {
                    throw new SpecException(field, "unterminated " + (c == '\'' ? "string" : "quoted identifier") + " in: " + sql);
                }
                i = end;
            } else if (c == ';') {
                throw new SpecException(field, "must be one SQL expression, without ';'");
            } else if (c == '-' && i + 1 < sql.length() && sql.charAt(i + 1) == '-'
                    || c == '/' && i + 1 < sql.length() && sql.charAt(i + 1) == '*') {
                throw new SpecException(field, "must not contain SQL comments");
            } else if (c == '(') {
                depth++;
            } else if (c == ')' && --depth < 0) {
                throw new SpecException(field, "unbalanced ')' in: " + sql);
            }
        }
        if (depth != 0) {
            throw new SpecException(field, "unbalanced '(' in: " + sql
                    + " (inside a YAML { } mapping, quote an expression that contains commas)");
        }
    }

    /**
     * The fragment with each {@code ?} outside quotes doubled, as the PostgreSQL JDBC driver expects in a prepared
     * statement, so that operators such as jsonb's {@code ?} and {@code ?|} are not taken for parameters.
     */
    public static String forJdbc(String sql) {
        StringBuilder out = new StringBuilder(sql.length() + 4);
        char quote = 0;
        for (int i = 0; i < sql.length(); i++) {
            char c = sql.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '?') {
                out.append('?');
            }
            out.append(c);
        }
        return out.toString();
    }
}
