package dev.sluice.engine.validate;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import dev.sluice.engine.JobStatus;
import dev.sluice.engine.Key;
import dev.sluice.engine.Mismatch;
import dev.sluice.engine.RuleResult;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.StopSignal;
import dev.sluice.engine.ValidationResult;
import dev.sluice.engine.keyset.Catalog;
import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Keyset;
import dev.sluice.engine.keyset.Table;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.DatabaseTest;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Validation finds exactly the planted mismatches, of every kind; repair fixes exactly those; then it is clean. */
class ValidationTest extends DatabaseTest {

    private static final JobSpec SPEC = SpecParser.parse("""
            name: v-lower
            table: v
            key: [id]
            set: { email_lower: lower(email) }
            chunk: { rows: 500, min-rows: 500, max-rows: 500 }
            validate:
              - { target: email_lower, source: lower(email) }
              - { check: "email_lower IS NOT DISTINCT FROM lower(email)" }
            """);

    @BeforeEach
    void seed() {
        db.exec(
                "CREATE TABLE v (id int PRIMARY KEY, email text, email_lower text)",
                "INSERT INTO v SELECT g, CASE WHEN g % 97 = 0 THEN NULL ELSE 'Mail' || g || '@X.ORG' END, NULL"
                        + " FROM generate_series(1, 5000) g",
                "ANALYZE v");
    }

    @Test
    void findsEveryKindOfMismatchAndRepairFixesThem() throws Exception {
        AtomicInteger chunks = new AtomicInteger();
        RunResult run = backfill.run(SPEC, RunOptions.defaults().withObserver(r -> {
            if (chunks.incrementAndGet() == 3) {
                // A concurrent writer changes rows behind the checkpoint: the backfill will not see them again.
                db.exec("UPDATE v SET email = 'Changed' || id || '@X.ORG' WHERE id IN (5, 6)");
            }
        }));
        // The run validates after its last chunk and finds the two rows changed behind its checkpoint (both rules).
        assertThat(run.outcome()).isEqualTo(RunResult.Outcome.MISMATCHES);
        assertThat(run.validation().mismatches()).isEqualTo(4);
        db.exec(
                "UPDATE v SET email_lower = 'wrong' WHERE id = 100", // wrong value
                "UPDATE v SET email_lower = NULL WHERE id = 200", // NULL where a value belongs
                "UPDATE v SET email_lower = 'stray' WHERE id = 291"); // a value where NULL belongs (291 = 3 * 97)

        ValidationResult found = backfill.validate(SPEC, RunOptions.defaults());
        assertThat(found.complete()).isTrue();
        assertThat(found.rows()).isEqualTo(5000);
        assertThat(found.rules()).hasSize(2);
        RuleResult compare = found.rules().get(0);
        assertThat(compare.rule()).isEqualTo("email_lower");
        assertThat(compare.checked()).isEqualTo(5000);
        assertThat(compare.mismatches()).isEqualTo(5);
        assertThat(compare.samples())
                .containsExactly(
                        new Mismatch(List.of("5"), "mail5@x.org", "changed5@x.org"),
                        new Mismatch(List.of("6"), "mail6@x.org", "changed6@x.org"),
                        new Mismatch(List.of("100"), "wrong", "mail100@x.org"),
                        new Mismatch(List.of("200"), null, "mail200@x.org"),
                        new Mismatch(List.of("291"), "stray", null));
        assertThat(found.rules().get(1).rule()).isEqualTo("check[1]");
        assertThat(found.rules().get(1).mismatches()).isEqualTo(5);
        assertThat(found.rules().get(1).samples())
                .extracting(Mismatch::key)
                .containsExactly(List.of("5"), List.of("6"), List.of("100"), List.of("200"), List.of("291"));
        assertThat(found.clean()).isFalse();

        JobStatus status = backfill.status("v-lower");
        assertThat(status.validation().mismatches()).isEqualTo(10);
        assertThat(backfill.statuses()).extracting(JobStatus::job).containsExactly("v-lower");

        db.exec(
                "CREATE TABLE touched (id int)",
                """
                CREATE FUNCTION note_touch() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN INSERT INTO touched VALUES (NEW.id); RETURN NEW; END $$""",
                "CREATE TRIGGER note_touch AFTER UPDATE ON v FOR EACH ROW EXECUTE FUNCTION note_touch()");
        ValidationResult repaired = backfill.repair(SPEC, RunOptions.defaults());
        assertThat(db.column("SELECT id FROM touched ORDER BY id")).containsExactly("5", "6", "100", "200", "291");
        assertThat(repaired.clean()).isTrue();
        assertThat(repaired.mismatches()).isZero();
        assertThat(backfill.status("v-lower").validation().mismatches()).isZero();
    }

    @Test
    void anInterruptedValidationContinuesWhereItStoppedWithoutCountingARangeTwice() throws Exception {
        backfill.run(SPEC, RunOptions.defaults());
        db.exec("UPDATE v SET email_lower = 'bad' WHERE id % 50 = 0"); // 100 rows, spread over every chunk
        StopSignal stop = new StopSignal();
        AtomicInteger chunks = new AtomicInteger();
        ValidationResult partial =
                backfill.validate(SPEC, RunOptions.defaults().withStop(stop).withObserver(r -> {
                    if (chunks.incrementAndGet() == 4) {
                        stop.request("test");
                    }
                }));
        assertThat(partial.complete()).isFalse();
        assertThat(partial.rows()).isEqualTo(2000);
        assertThat(partial.mismatches()).isEqualTo(80); // 40 rows so far, two rules

        ValidationResult resumed = backfill.validate(SPEC, RunOptions.defaults());
        assertThat(resumed.complete()).isTrue();
        assertThat(resumed.rows()).isEqualTo(5000);
        assertThat(resumed.rules().get(0).mismatches()).isEqualTo(100);
        assertThat(resumed.rules().get(0).samples()).hasSize(Validator.SAMPLES);

        ValidationResult again = backfill.validate(SPEC, RunOptions.defaults());
        assertThat(again.rows())
                .as("a finished validation is not continued: the next one starts over")
                .isEqualTo(5000);
        assertThat(again.rules().get(0).mismatches()).isEqualTo(100);
    }

    @Test
    void aValidationOfACleanTableIsCleanAndReadsInChunks() throws Exception {
        backfill.run(SPEC, RunOptions.defaults());
        ValidationResult result = backfill.validate(SPEC, RunOptions.defaults());
        assertThat(result.clean()).isTrue();
        assertThat(result.chunks()).isEqualTo(10);
    }

    @Test
    void aRowWrittenToBothTablesAfterTheWalkIsNotExtraButAStrayOneIs() throws Exception {
        db.exec(
                "CREATE TABLE v2 (id int PRIMARY KEY, email_lower text)",
                "INSERT INTO v2 SELECT id, lower(email) FROM v",
                // After the walk read the source's last key (5000): a row the application inserted, copied by a
                // sync trigger in the same transaction; and a row in the target only.
                "INSERT INTO v VALUES (6000, 'New@X.ORG', NULL)",
                "INSERT INTO v2 VALUES (6000, 'new@x.org')",
                "INSERT INTO v2 VALUES (7000, 'stray')");
        try (Connection c = ds.getConnection()) {
            Keyset keyset = Keyset.resolve(Catalog.table(c, "v"), List.of("id"));
            Table target = Catalog.table(c, "v2");
            Map<Column, String> columns = new LinkedHashMap<>();
            columns.put(target.columns().get("id"), "id");
            columns.put(target.columns().get("email_lower"), "lower(email)");
            CopyComparison comparison = new CopyComparison(
                    keyset, target, columns, List.of(target.columns().get("id")), "email IS NOT NULL", null);
            List<RuleResult> beyond = comparison.beyond(c, new Key(List.of("5000")), Map.of());
            assertThat(beyond).singleElement().satisfies(extra -> {
                assertThat(extra.mismatches()).isEqualTo(1);
                assertThat(extra.samples())
                        .singleElement()
                        .satisfies(m -> assertThat(m.key()).containsExactly("'7000'"));
            });
            db.exec("UPDATE v SET email = NULL WHERE id = 6000"); // the filter now leaves the source row out
            assertThat(comparison
                            .beyond(c, new Key(List.of("5000")), Map.of())
                            .get(0)
                            .mismatches())
                    .isEqualTo(2);
        }
    }
}
