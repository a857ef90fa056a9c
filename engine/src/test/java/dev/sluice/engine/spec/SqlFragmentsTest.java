package dev.sluice.engine.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** One expression, read as the PostgreSQL JDBC driver reads it: no quoting form hides a ';' or a ')'. */
class SqlFragmentsTest {

    @ParameterizedTest
    @ValueSource(
            strings = {
                "1; DELETE FROM t",
                // a dollar quote hides a single quote, which hid the rest from a scanner that knew only single quotes
                "$$'$$) ; DELETE FROM t; SELECT ($$'$$",
                "$x$'$x$) ; DELETE FROM t; SELECT ($x$'$x$",
                "$a$'$a$ IS NOT NULL) ; COMMIT; DELETE FROM t; SELECT ($a$'$a$ IS NULL",
                // an E'' string's backslash escapes its quote
                "E'\\'' ) ; DELETE FROM t; SELECT ( '",
                "e'\\\\' ; DELETE FROM t",
                // in a standard string a backslash is an ordinary character
                "'\\' ; DELETE FROM t; SELECT '\\'",
                "\"a\"\"b\" ) ; DROP TABLE t; SELECT ( 1",
                "true) OR (true",
                "lower(email)) FROM t WHERE (true",
                "1) , n = (2",
                "lower(email) -- swallows the rest of the statement",
                "lower(email) /* swallows the rest",
                "lower(email) /* nested /* */ still open ;",
                "'open string",
                "\"open identifier",
                "$$ open dollar quote",
                // the driver ends an E'' string at a doubled quote or a line break, the server does not: the server
                // would see ") OR (true" where the driver sees a string
                "E'a''b\\' ' ) OR (true E'\\' '",
                "E'a'\n'\\' ' ) OR (true E'\\' '",
                "E'it''s ;)'",
                // E' after a quote or a digit, a dollar quote after a digit: an escaped string or a dollar quote to
                // PostgreSQL, not to the driver
                "'a'E'\\' ) OR (true E'\\'",
                "1E'\\' ) OR (true E'\\'",
                "1$$'$$ ) OR (true -- '\n",
                "$tag$ open tagged quote $tga$",
                "(lower(email)",
                "lower(email))",
                ")(",
                " ",
                ""
            })
    void refusesWhatIsNotOneExpression(String sql) {
        assertThatThrownBy(() -> SqlFragments.check("set.x", sql))
                .isInstanceOf(SpecException.class)
                .hasMessageStartingWith("set.x: ");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "lower(email)",
                "coalesce(a, b)",
                "length($$;)$$)",
                "$tag$ ) ; DELETE $tag$ || 'x'",
                "$a$ $b$ ; $b$ $a$",
                "E'it\\'s \\' ok ;)'",
                "'a;b' || 'c)'",
                "lower(email) /* a comment; with ) */",
                "lower(email) /* nested /* ; */ ) */",
                "lower(email) -- a comment ;)\n",
                "\"we;ird\" + 1",
                "\"quo\"\"te)\" || x",
                "x$1$y + 1",
                "x1E'a' || x2$$y",
                "(SELECT max(n) FROM t WHERE t.id < 10)",
                "CASE WHEN a > 0 THEN 'x;' ELSE NULL END"
            })
    void acceptsOneExpressionWhateverItQuotes(String sql) {
        assertThatCode(() -> SqlFragments.check("set.x", sql)).doesNotThrowAnyException();
    }

    @ParameterizedTest
    @ValueSource(strings = {"'\\' || x", "x || '\\'", "email <> '\\'' ) ; DELETE FROM t --'"})
    void refusesWhatReadsDifferentlyWithStandardConformingStringsOnAndOff(String sql) {
        // An expression can turn the session's setting off as it runs (set_config), and the next statement the driver
        // reads with it off: the text must be one expression either way.
        assertThatThrownBy(() -> SqlFragments.check("where", sql))
                .isInstanceOf(SpecException.class)
                .hasMessageStartingWith("where: ");
    }

    @ParameterizedTest
    @ValueSource(strings = {"regexp_replace(phone, '\\D', '', 'g')", "s ~ '^\\d+$'", "'a\\\\b'", "E'it\\'s'"})
    void acceptsBackslashesThatReadTheSameEitherWay(String sql) {
        assertThatCode(() -> SqlFragments.check("set.x", sql)).doesNotThrowAnyException();
    }

    @Test
    void refusesANulCharacter() {
        assertThatThrownBy(() -> SqlFragments.check("where", "email <> 'x'\u0000"))
                .hasMessageContaining("NUL");
    }

    @Test
    void doublesOnlyTheQuestionMarksTheDriverWouldTakeForParameters() {
        assertThat(SqlFragments.forJdbc("data ? 'k' AND data ?| array['a?'] AND \"c?\" = $$?$$ /* ? */"))
                .isEqualTo("data ?? 'k' AND data ??| array['a?'] AND \"c?\" = $$?$$ /* ? */");
        assertThat(SqlFragments.forJdbc("x -- ?\n ? y")).isEqualTo("x -- ?\n ?? y");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "(SELECT n FROM dblink('host=db2 dbname=app user=ops password=hunter22', 'SELECT 1') AS d(n int))",
                "(SELECT n FROM dblink($$dbname=app password = hunter22$$, 'SELECT 1') AS d(n int))",
                "(SELECT n FROM dblink('postgresql://ops:hunter22@db2/app', 'SELECT 1') AS d(n int))",
                "(SELECT n FROM dblink('postgres://ops:hunter22@db2:5432', 'SELECT 1') AS d(n int))",
                "length('jdbc:postgresql://db2/app?user=ops&password=hunter22')",
                "1 /* host=db2 user=ops sslpassword=hunter22 */",
                "1 -- postgresql://ops:hunter22@db2/app\n"
            })
    void refusesAPasswordInAConnectionStringOrUrl(String sql) {
        // Specs are recorded with the job: a password in one would be stored verbatim, as in a URL field.
        assertThatThrownBy(() -> SqlFragments.check("health.query.sql", sql))
                .isInstanceOf(SpecException.class)
                .hasMessageStartingWith("health.query.sql: must not carry a password")
                .hasMessageNotContaining("hunter22");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "regexp_replace(notes, 'password=\\S+', 'password=***')",
                "password = 'x'",
                "position('password=' in notes) > 0",
                "(SELECT n FROM dblink('host=db2 dbname=app user=ops', 'SELECT 1') AS d(n int))",
                "(SELECT n FROM dblink('postgresql://ops@db2/app', 'SELECT 1') AS d(n int))",
                "data->>'url' <> 'https://example.org/a:b@c'"
            })
    void acceptsTextThatMerelyMentionsPasswords(String sql) {
        assertThatCode(() -> SqlFragments.check("set.x", sql)).doesNotThrowAnyException();
    }
}
