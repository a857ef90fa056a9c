package dev.sluice.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import dev.sluice.engine.control.RunnerLock;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.DatabaseTest;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BackfillTest extends DatabaseTest {

    @BeforeEach
    void createTable() {
        db.exec(
                "CREATE TABLE items (id bigint PRIMARY KEY, email text NOT NULL, email_lower text, n int NOT NULL DEFAULT 0)",
                "INSERT INTO items (id, email) SELECT g * 3, 'User' || g || '@Example.COM' FROM generate_series(1, 10000) g");
    }

    private static JobSpec spec(String extra) {
        return SpecParser.parse("""
                name: items-lower
                table: items
                key: [id]
                set: { email_lower: lower(email) }
                chunk: { rows: 700, min-rows: 700, max-rows: 700 }   # fixed size: the test counts chunks
                """ + extra);
    }

    private static JobSpec increment(int rows) {
        return SpecParser.parse("name: items-inc\ntable: items\nkey: [id]\nset: { n: n + 1 }\nchunk: { rows: " + rows
                + ", min-rows: " + rows + ", max-rows: " + rows + " }\n");
    }

    @Test
    void appliesEveryRowOnceInChunksAndRecordsTheCheckpoint() throws SQLException {
        RunResult result = backfill.run(spec(""), RunOptions.defaults());

        assertThat(result.outcome()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(result.rows()).isEqualTo(10_000);
        assertThat(result.written()).isEqualTo(10_000);
        assertThat(result.chunks()).isEqualTo(15); // ceil(10000 / 700)
        assertThat(db.count("SELECT count(*) FROM items WHERE email_lower IS DISTINCT FROM lower(email)"))
                .isZero();

        JobStatus status = backfill.status("items-lower");
        assertThat(status.state()).isEqualTo(JobStatus.State.COMPLETED);
        assertThat(status.rowsProcessed()).isEqualTo(10_000);
        assertThat(status.lastKey()).containsExactly("30000");
        assertThat(status.chunks()).isEqualTo(15);
        assertThat(status.table()).isEqualTo("items");
    }

    @Test
    void reportsCompleteUntilRunAgain() throws SQLException {
        backfill.run(increment(1000), RunOptions.defaults());
        RunResult second = backfill.run(increment(1000), RunOptions.defaults());
        assertThat(second.outcome()).isEqualTo(RunResult.Outcome.ALREADY_COMPLETE);
        assertThat(db.count("SELECT count(*) FROM items WHERE n <> 1")).isZero();

        RunResult again = backfill.run(increment(1000), RunOptions.defaults().again(true));
        assertThat(again.outcome()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.count("SELECT count(*) FROM items WHERE n <> 2")).isZero();
    }

    @Test
    void processesRowsInsertedAboveTheCheckpointButNotBehindIt() throws SQLException {
        AtomicInteger seen = new AtomicInteger();
        RunOptions options = RunOptions.defaults().withObserver(report -> {
            if (seen.incrementAndGet() == 3) {
                db.exec(
                        "INSERT INTO items (id, email) VALUES (1, 'Behind@X'), (50000, 'Above@X'), (50001, 'Above2@X')");
            }
        });
        backfill.run(spec(""), options);

        assertThat(db.one("SELECT email_lower FROM items WHERE id = 50000")).isEqualTo("above@x");
        assertThat(db.one("SELECT email_lower FROM items WHERE id = 50001")).isEqualTo("above2@x");
        assertThat(db.one("SELECT coalesce(email_lower, 'untouched') FROM items WHERE id = 1"))
                .isEqualTo("untouched");
    }

    @Test
    void stopsAfterTheCurrentChunkAndResumesWithoutReapplyingIt() throws SQLException {
        StopSignal stop = new StopSignal();
        AtomicInteger chunks = new AtomicInteger();
        RunOptions options = RunOptions.defaults().withStop(stop).withObserver(r -> {
            if (chunks.incrementAndGet() == 4) {
                stop.request("test");
            }
        });
        RunResult stopped = backfill.run(increment(500), options);
        assertThat(stopped.outcome()).isEqualTo(RunResult.Outcome.STOPPED);
        assertThat(stopped.chunks()).isEqualTo(4);
        assertThat(db.count("SELECT count(*) FROM items WHERE n = 1")).isEqualTo(2000);
        assertThat(backfill.status("items-inc").state()).isEqualTo(JobStatus.State.STOPPED);

        RunResult resumed = backfill.run(increment(500), RunOptions.defaults().resumeOnly(true));
        assertThat(resumed.outcome()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.count("SELECT count(*) FROM items WHERE n <> 1")).isZero();
        assertThat(resumed.rows()).isEqualTo(10_000);
    }

    @Test
    void aSecondRunnerIsRefusedAndTouchesNothing() throws SQLException {
        try (RunnerLock held = RunnerLock.tryAcquire(ds, "items-inc")) {
            assertThat(held).isNotNull();
            RunResult refused = backfill.run(increment(500), RunOptions.defaults());
            assertThat(refused.outcome()).isEqualTo(RunResult.Outcome.NOT_RUNNABLE);
            assertThat(refused.message()).contains("already running").contains("pid");
        }
        assertThat(db.count("SELECT count(*) FROM items WHERE n <> 0")).isZero();
        assertThat(db.exists("sluice.batch_job_instance")).isFalse();
    }

    @Test
    void refusesToResumeWhenSemanticFieldsChangedUnlessForced() throws SQLException {
        StopSignal stop = new StopSignal();
        stop.request("stop at once");
        backfill.run(spec(""), RunOptions.defaults().withStop(stop));

        JobSpec changed = SpecParser.parse("""
                name: items-lower
                table: items
                key: [id]
                set: { email_lower: upper(email) }
                """);
        assertThatThrownBy(() -> backfill.run(changed, RunOptions.defaults()))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("set: changed since job items-lower started");
        assertThat(db.count("SELECT count(*) FROM items WHERE email_lower IS NOT NULL"))
                .isZero();

        JobSpec retuned = spec("throttle: { rows-per-second: 0 }\ntimeouts: { lock: 2s }\n");
        assertThat(backfill.run(retuned, RunOptions.defaults()).outcome()).isEqualTo(RunResult.Outcome.COMPLETED);

        // Not even forced while the undo journal holds what the earlier spec wrote: a rollback reads it with the job's
        // spec. Rolled back first, the changed spec runs.
        assertThatThrownBy(() ->
                        backfill.run(changed, RunOptions.defaults().again(true).force(true)))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("undo journal was written (set)");
        assertThat(backfill.rollback("items-lower", RunOptions.defaults(), false)
                        .outcome())
                .isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.count("SELECT count(*) FROM items WHERE email_lower IS NOT NULL"))
                .isZero();
        assertThat(backfill.run(changed, RunOptions.defaults().again(true).force(true))
                        .outcome())
                .isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.count("SELECT count(*) FROM items WHERE email_lower <> upper(email)"))
                .isZero();
    }

    @Test
    void aChunkWhoseDataPassesALimitIsRetriedSmaller() throws SQLException {
        // As an undo journal entry past PostgreSQL's 1 GB array limit would: program_limit_exceeded above 300 rows.
        db.exec(
                """
                CREATE FUNCTION at_most_300() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF (SELECT count(*) FROM changed) > 300 THEN
                  RAISE EXCEPTION 'too much at once' USING ERRCODE = 'program_limit_exceeded'; END IF; RETURN NULL; END $$""",
                "CREATE TRIGGER at_most_300 AFTER UPDATE ON items REFERENCING NEW TABLE AS changed"
                        + " FOR EACH STATEMENT EXECUTE FUNCTION at_most_300()");
        RunResult run = backfill.run(SpecParser.parse("""
                name: items-limit
                table: items
                key: [id]
                set: { email_lower: lower(email) }
                chunk: { rows: 1000, min-rows: 100, max-rows: 1000 }
                """), RunOptions.defaults());
        assertThat(run.outcome()).as(run.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.count("SELECT count(*) FROM items WHERE email_lower = lower(email)"))
                .isEqualTo(10000);
    }

    @Test
    void aCommitThatFailsDoesNotAdvanceTheCheckpoint() throws SQLException {
        // A deferred constraint trigger fails at COMMIT once, after the chunk's UPDATE and checkpoint were written.
        db.exec(
                "CREATE TABLE fail_once (armed boolean)",
                "INSERT INTO fail_once VALUES (true)",
                """
                CREATE FUNCTION fail_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF NEW.id = 6000 AND (SELECT armed FROM fail_once) THEN
                    RAISE EXCEPTION 'commit refused once' USING ERRCODE = 'P0001';
                  END IF;
                  RETURN NULL;
                END $$""",
                "CREATE CONSTRAINT TRIGGER refuse AFTER UPDATE ON items DEFERRABLE INITIALLY DEFERRED"
                        + " FOR EACH ROW EXECUTE FUNCTION fail_at_commit()");

        RunResult failed = backfill.run(increment(1000), RunOptions.defaults());
        assertThat(failed.outcome()).isEqualTo(RunResult.Outcome.FAILED);
        assertThat(failed.message()).contains("commit refused once");
        assertThat(db.count("SELECT count(*) FROM items WHERE n = 1")).isEqualTo(1000);
        JobStatus status = backfill.status("items-inc");
        assertThat(status.state()).isEqualTo(JobStatus.State.FAILED);
        assertThat(status.lastKey()).containsExactly("3000");
        assertThat(status.lastError()).contains("commit refused once");

        db.exec("UPDATE fail_once SET armed = false");
        assertThat(backfill.run(increment(1000), RunOptions.defaults()).outcome())
                .isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.count("SELECT count(*) FROM items WHERE n <> 1")).isZero();
    }

    @Test
    void anEmptyTableCompletesWithNoChunks() throws SQLException {
        db.exec("TRUNCATE items");
        RunResult result = backfill.run(spec(""), RunOptions.defaults());
        assertThat(result.outcome()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(result.chunks()).isZero();
    }

    @Test
    void appliesTheWhereFilterInsideEachRange() throws SQLException {
        db.exec("UPDATE items SET email_lower = 'done' WHERE id % 2 = 0");
        RunResult result = backfill.run(spec("where: email_lower IS NULL\n"), RunOptions.defaults());
        assertThat(result.rows()).isEqualTo(10_000);
        assertThat(result.written()).isEqualTo(5_000);
        assertThat(db.count("SELECT count(*) FROM items WHERE email_lower = 'done'"))
                .isEqualTo(5_000);
    }

    @Test
    void statusSaysValidatingUntilThePostRunValidationHasItsVerdict() throws Exception {
        // Validation is throttled like the backfill (its own rate, by default the job's): it takes a while.
        JobSpec spec = spec("""
                throttle: { rows-per-second: 10000 }
                validate: [ { target: email_lower, source: lower(email) } ]
                """);
        List<String> seen = new CopyOnWriteArrayList<>();
        CompletableFuture<RunResult> run = CompletableFuture.supplyAsync(() -> {
            try {
                return backfill.run(spec, RunOptions.defaults());
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
        while (!run.isDone()) {
            JobStatus s = backfill.status("items-lower");
            if (s != null && !run.isDone()) {
                seen.add(s.state()
                        + (s.validation() == null
                                ? ""
                                : " checked " + s.validation().rowsChecked()
                                        + (s.validation().complete() ? " complete" : "")));
            }
            Thread.sleep(20);
        }
        assertThat(run.get().outcome()).isEqualTo(RunResult.Outcome.COMPLETED);
        // COMPLETED only with the validation's verdict in (the run may still be returning when status says so).
        assertThat(seen)
                .as("states seen while the runner ran")
                .anyMatch(x -> x.startsWith("VALIDATING"))
                .noneMatch(x -> x.startsWith("COMPLETED") && !x.endsWith(" complete"));
        assertThat(backfill.status("items-lower").state()).isEqualTo(JobStatus.State.COMPLETED);
    }

    @Test
    void aCompletedJobWhoseValidationWasStoppedIsNotCompletedAndRunFinishesTheValidation() throws Exception {
        JobSpec spec = spec("validate: [ { target: email_lower, source: lower(email) } ]\n");
        StopSignal stop = new StopSignal();
        AtomicInteger chunks = new AtomicInteger();
        // 15 backfill chunks, then the validation's: stop in the middle of the validation.
        RunResult stopped =
                backfill.run(spec, RunOptions.defaults().withStop(stop).withObserver(r -> {
                    if (chunks.incrementAndGet() == 18) {
                        stop.request("test");
                    }
                }));
        assertThat(stopped.outcome()).isEqualTo(RunResult.Outcome.STOPPED);
        JobStatus status = backfill.status("items-lower");
        assertThat(status.state()).isEqualTo(JobStatus.State.STOPPED);
        assertThat(status.lastError()).contains("validation stopped");
        assertThat(status.validation().complete()).isFalse();

        RunResult again = backfill.run(spec, RunOptions.defaults());
        assertThat(again.outcome()).isEqualTo(RunResult.Outcome.ALREADY_COMPLETE);
        assertThat(again.validation()).isNotNull();
        assertThat(again.validation().clean()).isTrue();
        assertThat(backfill.status("items-lower").state()).isEqualTo(JobStatus.State.COMPLETED);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            table: items   | set: { email_lowr: lower(email) }        | set.email_lowr: no column 'email_lowr'
            table: items   | set: { email_lower: lower(emial) }       | set.email_lower: column "emial" does not exist
            table: items   | set: { n: lower(email) }                 | set.n: column "n" is of type integer but expression is of type text
            table: items   | set: { id: id + 1 }                      | set.id: 'id' is a key column
            table: items   | where: email                             | where: argument of WHERE must be type boolean
            table: nosuch  | set: { n: 1 }                            | table: no table 'nosuch'
            table: loose   | set: { v: 1 }                            | key: column 'id' allows NULL
            table: uniq    | set: { v: 1 }                            | key: no unique index on exactly (id)
            """)
    void preflightFailuresNameTheFieldAndWriteNothing(String table, String body, String message) {
        db.exec(
                "CREATE TABLE loose (id int, v int)",
                "CREATE TABLE uniq (id int NOT NULL, v int)",
                "CREATE INDEX ON uniq (id)");
        JobSpec bad = SpecParser.parse("name: bad\n" + table + "\nkey: [id]\n" + body
                + (body.startsWith("where") ? "\nset: { n: n + 1 }" : "") + "\n");
        assertThatThrownBy(() -> backfill.run(bad, RunOptions.defaults()))
                .isInstanceOf(SpecException.class)
                .hasMessageStartingWith(message);
        assertThat(db.exists("sluice.batch_job_instance")).isFalse();
        assertThat(db.count("SELECT count(*) FROM items WHERE email_lower IS NOT NULL OR n <> 0"))
                .isZero();
    }
}
