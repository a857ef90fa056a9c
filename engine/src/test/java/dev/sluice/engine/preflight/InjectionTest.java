package dev.sluice.engine.preflight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.testing.DatabaseTest;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Operator SQL that is not exactly one expression never runs, whichever way it reaches the engine: a spec built in
 * Java skips the YAML parser's check, so preflight decides again, with the connection's own quoting rules, before
 * any statement carrying the text is sent. Each case hides a second statement or a closing parenthesis behind a
 * quoting form; none may delete a row, drop a table, or commit preflight's transaction.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InjectionTest extends DatabaseTest {

    @BeforeEach
    void tables() {
        db.exec(
                "DROP TABLE IF EXISTS t, victim, t_copy",
                "CREATE TABLE t (id int PRIMARY KEY, s text, n int NOT NULL DEFAULT 0)",
                "INSERT INTO t (id, s) SELECT g, 'x' || g FROM generate_series(1, 500) g",
                "CREATE TABLE victim (id int)",
                "CREATE TABLE t_copy (id int PRIMARY KEY, s text)");
    }

    static Stream<Arguments> smuggled() {
        String[] payloads = {
            "$$'$$ IS NOT NULL) ; DELETE FROM t; SELECT ($$'$$ IS NULL",
            "$q$'$q$ IS NOT NULL) ; COMMIT; DROP TABLE victim; SELECT ($q$'$q$ IS NULL",
            "E'\\'' IS NOT NULL) ; DELETE FROM t; SELECT ('' IS NULL",
            "true) OR (true",
            "true /* ) ; */ ) ; DELETE FROM t; SELECT ( true",
            "E'a''b\\' ' IS NOT NULL) OR (true E'\\' ' IS NULL",
            "true -- swallows the rest",
        };
        return Stream.of(payloads)
                .flatMap(p -> Stream.of(
                        Arguments.of("where", p),
                        Arguments.of("set.s", p),
                        Arguments.of("validate[0].check", p),
                        Arguments.of("validate[0].source", p),
                        Arguments.of("columns.s", p)));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("smuggled")
    void refusesAndRunsNothing(String field, String payload) {
        // A spec built in code, not parsed, is checked as it is made: it cannot exist, so nothing can run it.
        assertThatThrownBy(() -> spec(field, payload))
                .isInstanceOf(SpecException.class)
                .hasMessageStartingWith(field + ": ");
        assertThat(db.count("SELECT count(*) FROM t")).isEqualTo(500);
        assertThat(db.count("SELECT count(*) FROM t WHERE n <> 0 OR s <> 'x' || id"))
                .isZero();
        assertThat(db.exists("victim")).isTrue();
        assertThat(db.exists("sluice.batch_job_instance")).isFalse();
    }

    @Test
    void preflightCannotWriteEvenWhereAnExpressionWouldIfItRan() throws Exception {
        db.exec("CREATE FUNCTION bump() RETURNS int LANGUAGE sql AS 'UPDATE t SET n = n + 1 RETURNING 1'");
        JobSpec spec = spec("set.s", "bump()::text");
        backfill.plan(spec);
        assertThat(db.count("SELECT count(*) FROM t WHERE n <> 0")).isZero();
    }

    /** A spec whose {@code field} carries {@code sql}; the other fields are plain. */
    private static JobSpec spec(String field, String sql) {
        boolean copy = field.startsWith("columns");
        Map<String, String> set = copy ? Map.of() : Map.of("s", field.equals("set.s") ? sql : "s");
        Map<String, String> columns = copy ? Map.of("id", "id", "s", sql) : Map.of();
        String where = field.equals("where") ? sql : null;
        List<JobSpec.ValidationRule> rules = switch (field) {
            case "validate[0].check" -> List.of(new JobSpec.ValidationRule(null, null, sql));
            case "validate[0].source" -> List.of(new JobSpec.ValidationRule("s", sql, null));
            default -> List.of();
        };
        return new JobSpec(
                "injected",
                "t",
                List.of("id"),
                where,
                set,
                copy ? "t_copy" : null,
                columns,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                rules,
                null,
                null);
    }
}
