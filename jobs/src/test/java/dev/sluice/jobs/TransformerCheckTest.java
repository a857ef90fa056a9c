package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A Java transformer that declares its own check is validated by it when the spec has no rules (each row transformed
 * again and compared with what it holds), so that require lets it through; one that declares none works as before.
 */
class TransformerCheckTest extends CliDatabaseTest {

    @BeforeEach
    void seed() {
        db.exec(
                "CREATE TABLE words (id bigint PRIMARY KEY, s text, s_upper text, n bigint NOT NULL DEFAULT 0)",
                "INSERT INTO words (id, s) SELECT g, CASE WHEN g % 10 = 0 THEN NULL ELSE 'word ' || g END"
                        + " FROM generate_series(1, 5000) g",
                "ANALYZE words");
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void aTransformersOwnCheckValidatesItWithoutRulesAndFindsARowChangedSince() throws Exception {
        writeSpec("upper", """
                table: words
                key: [id]
                where: "s_upper IS NULL"
                transformer: upper-copy
                chunk: { rows: 700 }
                """);
        Cli.Result plan = Cli.run(args("plan", "upper"));
        assertThat(plan.out()).contains("the transformer's own check");
        Cli.Result run = Cli.run(args("run", "upper"));
        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        assertThat(run.out())
                .contains("validation of upper: 5,000 rows checked")
                .contains("validation clean");
        assertThat(Cli.run(args("require", "upper")).exitCode()).isZero();

        db.exec("UPDATE words SET s_upper = 'changed' WHERE id = 4321");
        Cli.Result validate = Cli.run(args("validate", "upper"));
        assertThat(validate.exitCode()).as(validate.out() + validate.err()).isEqualTo(3);
        assertThat(validate.out())
                .contains("s_upper")
                .contains("1 mismatches")
                .contains("key 4321: target 'changed', source 'WORD 4321'");
        Cli.Result refused = Cli.run(args("require", "upper"));
        assertThat(refused.exitCode()).isEqualTo(4);
        assertThat(refused.err()).contains("1 mismatches").doesNotContain("--only-mismatched");
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void aTransformerWithoutACheckOfItsOwnRunsAsBeforeAndIsNotDoneUntilValidated() throws Exception {
        writeSpec("count", """
                table: words
                key: [id]
                transformer: increment
                """);
        Cli.Result run = Cli.run(args("run", "count"));
        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        assertThat(run.out()).doesNotContain("validation");
        assertThat(db.count("SELECT count(*) FROM words WHERE n <> 1")).isZero();
        Cli.Result refused = Cli.run(args("require", "count"));
        assertThat(refused.exitCode()).isEqualTo(4);
        assertThat(refused.err()).contains("never been validated").contains("'validate count'");
        Cli.Result validate = Cli.run(args("validate", "count"));
        assertThat(validate.exitCode()).isEqualTo(2);
        assertThat(validate.err()).contains("no rules, and its transformer declares no check of its own");
    }
}
