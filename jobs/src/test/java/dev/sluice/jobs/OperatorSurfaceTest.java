package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.testing.Eventually;
import dev.sluice.engine.testing.Internals;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The operator's surface as a new user meets it: control replies and every hint name the step that is right and
 * safe; status fields belong to the work they describe (or are absent); run says it runs only when it does; a
 * rollback shows its own progress.
 */
class OperatorSurfaceTest extends CliDatabaseTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @BeforeEach
    void seed() {
        db.counters("c", 20000);
    }

    private Map<String, Object> json(String job) {
        Cli.Result status = Cli.run(args("status", job, "--json"));
        assertThat(status.exitCode()).as(status.err()).isZero();
        return JSON.readValue(status.out(), new TypeReference<>() {});
    }

    private JobStatus status(String job) throws Exception {
        return new Backfill(ds).status(job);
    }

    /** Waits until {@code job} is VALIDATING and has checked a thousand rows (or its process ended). */
    private void validatingAWhile(String job, Process process) {
        Eventually.eventually(
                Duration.ofSeconds(60),
                "validating",
                () -> status(job),
                s -> (s.state() == JobStatus.State.VALIDATING
                                && s.validation() != null
                                && s.validation().rowsChecked() >= 1000)
                        || !process.isAlive());
    }

    /** A job that counts every row once ({@code n = n + 1}), checked by {@code n = 1}, in chunks of 1,000. */
    private void counting(String name, String more) throws Exception {
        writeSpec(name, """
                table: c
                key: [id]
                set: { n: n + 1 }
                chunk: { rows: 1000, min-rows: 1000, max-rows: 1000 }
                validate: [ { check: "n = 1" } ]
                """ + more);
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void cancellingAnExtraValidationCancelsItAloneAndTheJobStaysCompletedWithItsVerdict() throws Exception {
        counting("checked", "");
        Cli.Result run = Cli.run(args("run", "checked"));
        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();

        Process validation =
                Cli.spawn(dir.resolve("validate.log"), args("validate", "checked", "--rows-per-second", "1000"));
        validatingAWhile("checked", validation);
        Cli.Result cancel = Cli.run(args("cancel", "checked"));
        assertThat(cancel.exitCode()).as(cancel.err()).isZero();
        assertThat(cancel.out())
                .contains("CANCELLED")
                .contains("COMPLETED")
                .contains("'validate checked'")
                .doesNotContain("STOPPED")
                .doesNotContain("--again")
                .doesNotContain("'resume");
        assertThat(validation.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String log = Files.readString(dir.resolve("validate.log"));
        assertThat(log).contains("cancelled").doesNotContain("--again").doesNotContain("'resume");

        Map<String, Object> after = json("checked");
        assertThat(after).containsEntry("state", "COMPLETED");
        assertThat(after.get("validation"))
                .as("the verdict before the cancelled validation")
                .isEqualTo(Map.of(
                        "complete",
                        true,
                        "rowsChecked",
                        20000,
                        "mismatches",
                        0,
                        "at",
                        ((Map<?, ?>) after.get("validation")).get("at")));
        assertThat(Cli.run(args("require", "checked")).exitCode()).isZero();
        assertThat(Cli.run(args("status", "checked")).out())
                .contains("COMPLETED")
                .doesNotContain("--again");
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void cancellingTheValidationAfterTheRunNamesValidateAsTheWayOnAndNeverRedoesTheBackfill() throws Exception {
        counting("checked", "throttle: { validate-rows-per-second: 1000 }\n");
        Process runner = Cli.spawn(dir.resolve("run.log"), args("run", "checked"));
        validatingAWhile("checked", runner);
        Cli.Result cancel = Cli.run(args("cancel", "checked"));
        assertThat(cancel.exitCode()).as(cancel.err()).isZero();
        assertThat(cancel.out())
                .contains("CANCELLED")
                .contains("'validate checked'")
                .doesNotContain("--again")
                .doesNotContain("STOPPED");
        assertThat(runner.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(Files.readString(dir.resolve("run.log")))
                .doesNotContain("--again")
                .doesNotContain("'resume");

        Map<String, Object> cancelled = json("checked");
        assertThat(cancelled).containsEntry("state", "CANCELLED");
        assertThat((String) cancelled.get("lastError")).contains("cancelled").doesNotContain("--again");
        assertThat(cancelled).containsEntry("next", Map.of("action", "VALIDATE_AGAIN", "job", "checked"));
        Cli.Result again = Cli.run(args("run", "checked"));
        assertThat(again.exitCode()).isEqualTo(4);
        assertThat(again.err()).contains("'validate checked'").doesNotContain("--again");
        assertThat(db.count("SELECT count(*) FROM c WHERE n <> 1"))
                .as("the backfill is not redone")
                .isZero();

        Cli.Result validate = Cli.run(args("validate", "checked", "--rows-per-second", "0"));
        assertThat(validate.exitCode()).as(validate.out() + validate.err()).isZero();
        assertThat(json("checked")).containsEntry("state", "COMPLETED");
    }

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void statusFieldsBelongToTheWorkTheyDescribe() throws Exception {
        counting("fields", "throttle: { rows-per-second: 5000, validate-rows-per-second: 500 }\n");
        Process runner = Cli.spawn(dir.resolve("fields.log"), args("run", "fields"));
        JobStatus running = Eventually.eventually(
                Duration.ofSeconds(60),
                "running with a WAL rate",
                () -> status("fields"),
                s -> (s.state() == JobStatus.State.RUNNING && s.walBytesPerSecond() > 0) || !runner.isAlive());
        double backfillWal = running.walBytesPerSecond();
        JobStatus validating = Eventually.eventually(
                Duration.ofSeconds(60),
                "validating a while",
                () -> status("fields"),
                s -> (s.state() == JobStatus.State.VALIDATING
                                && s.validation() != null
                                && s.validation().rowsChecked() >= 3000)
                        || !runner.isAlive());
        assertThat(validating.state()).isEqualTo(JobStatus.State.VALIDATING);
        assertThat(validating.walBytesPerSecond())
                .as("the validation's WAL rate, not the backfill's (%s)", backfillWal)
                .isLessThan(backfillWal / 4);
        assertThat(validating.rowsPerSecondLimit()).isEqualTo(500);
        assertThat(validating.rowsPerSecond()).as("rows checked per second").isBetween(100.0, 1000.0);
        runner.destroyForcibly().waitFor();
        assertThat(Cli.run(args("validate", "fields", "--rows-per-second", "0")).exitCode())
                .isZero();

        Map<String, Object> completed = json("fields");
        assertThat(completed)
                .containsEntry("state", "COMPLETED")
                .containsEntry("rowsPerSecondLimit", null)
                .containsEntry("etaSeconds", null)
                .containsKey("validation");

        // A new run that fails a quarter of the way: the last validation belongs to the run before.
        db.exec(
                "UPDATE c SET n = 0",
                """
                CREATE FUNCTION no_5000() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF NEW.id = 5000 THEN RAISE EXCEPTION 'row 5000 is special'; END IF; RETURN NEW; END $$""",
                "CREATE TRIGGER no_5000 BEFORE UPDATE ON c FOR EACH ROW EXECUTE FUNCTION no_5000()");
        assertThat(Cli.run(args("run", "fields", "--again")).exitCode()).isEqualTo(1);
        Map<String, Object> failed = json("fields");
        assertThat(failed)
                .containsEntry("state", "FAILED")
                .doesNotContainKey("validation")
                .containsEntry("rowsPerSecondLimit", 5000);
        db.exec("DROP TRIGGER no_5000 ON c");
        // The validation's rate is a tuning field: unlimited from here on, the rest asks nothing of its pace.
        counting("fields", "throttle: { rows-per-second: 5000 }\n");
        assertThat(Cli.run(args("resume", "fields")).exitCode()).isZero();
        assertThat(Cli.run(args("finish", "fields")).exitCode()).isZero();
        assertThat(json("fields"))
                .containsEntry("state", "FINISHED")
                .containsEntry("rowsPerSecondLimit", null)
                .containsEntry("walBytesPerSecond", 0);
    }

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void aRollbackShowsItsOwnProgressAndItsPartitionsAndHintsSayWhatIsNeeded() throws Exception {
        writeSpec("split", """
                table: c
                key: [id]
                set: { n: n + 1 }
                parallel: 2
                chunk: { rows: 500, min-rows: 500, max-rows: 500 }
                throttle: { rows-per-second: 4000 }
                """);
        Process runner = Cli.spawn(dir.resolve("split.log"), args("run", "split"));
        Eventually.eventually(
                Duration.ofSeconds(60),
                "both partitions at work",
                () -> status("split"),
                s -> (s.chunks() >= 4 && s.running()) || !runner.isAlive());
        assertThat(Cli.run(args("pause", "split")).out()).contains("now PAUSED");
        assertThat(runner.waitFor(30, TimeUnit.SECONDS)).isTrue();
        Cli.Result paused = Cli.run(args("status", "split"));
        assertThat(paused.out()).contains("PAUSED").doesNotContain("STOPPED");
        assertThat(paused.out().lines().filter(l -> l.contains("partition")))
                .hasSize(2)
                .allMatch(l -> l.contains("PAUSED"));
        Cli.Result refused = Cli.run(args("run", "split"));
        assertThat(refused.exitCode()).isEqualTo(4);
        assertThat(refused.out()).doesNotContain("sluice: running");
        try (AutoCloseable held = Internals.holdRunnerLock(ds, "split")) {
            Cli.Result busy = Cli.run(args("resume", "split"));
            assertThat(busy.exitCode()).isEqualTo(4);
            assertThat(busy.out()).doesNotContain("sluice: running");
        }
        assertThat(Cli.run(args("resume", "split")).exitCode()).isZero();
        long journaled = status("split").undo().rows();
        assertThat(journaled).isEqualTo(20000);

        Process rollback = Cli.spawn(dir.resolve("rollback.log"), args("rollback", "split"));
        JobStatus rolling = Eventually.eventually(
                Duration.ofSeconds(60),
                "rolling back a while",
                () -> status("split"),
                s -> (s.state() == JobStatus.State.ROLLING_BACK && s.rowsProcessed() >= 2000) || !rollback.isAlive());
        assertThat(rolling.state()).isEqualTo(JobStatus.State.ROLLING_BACK);
        assertThat(rolling.rowsEstimated()).as("the journal's rows").isEqualTo(journaled);
        assertThat(rolling.partitions()).isEmpty();
        Map<String, Object> rollingJson = json("split");
        assertThat(rollingJson.get("etaSeconds")).isNotNull();
        assertThat((Double) rollingJson.get("progress")).isBetween(0.05, 0.95);
        assertThat(Cli.run(args("pause", "split")).out()).contains("now PAUSED");
        assertThat(rollback.waitFor(30, TimeUnit.SECONDS)).isTrue();

        Map<String, Object> pausedRollback = json("split");
        assertThat(pausedRollback).containsEntry("state", "PAUSED").doesNotContainKey("partitions");
        assertThat((Double) pausedRollback.get("progress")).isLessThan(1.0);
        Cli.Result pausedText = Cli.run(args("status", "split"));
        assertThat(pausedText.out())
                .doesNotContain("COMPLETED")
                .doesNotContain("100.0%")
                .contains("'rollback split'")
                .doesNotContain("'resume split'");

        db.exec("UPDATE c SET n = 7 WHERE id IN (1, 2, 3)"); // changed by the application since Sluice wrote them
        Cli.Result continued = Cli.run(args("rollback", "split"));
        assertThat(continued.exitCode()).as(continued.out() + continued.err()).isEqualTo(3);
        assertThat(continued.out())
                .contains("rollback")
                .doesNotContain("resuming the backfill")
                .contains("of " + String.format("%,d", journaled));
        Cli.Result left = Cli.run(args("status", "split"));
        assertThat(left.out()).contains("'rollback split --force'");
        assertThat(left.out()
                        .lines()
                        .filter(l -> l.contains("undo journal"))
                        .findFirst()
                        .orElse(""))
                .contains("--force");
        assertThat(Cli.run(args("rollback", "split", "--force")).exitCode()).isZero();
        Map<String, Object> rolledBack = json("split");
        assertThat(rolledBack)
                .containsEntry("state", "ROLLED_BACK")
                .containsEntry("rowsPerSecondLimit", null)
                .containsEntry("etaSeconds", null)
                .doesNotContainKey("partitions");
        Cli.Result refusedAfter = Cli.run(args("run", "split"));
        assertThat(refusedAfter.exitCode()).isEqualTo(4);
        assertThat(refusedAfter.out()).doesNotContain("sluice: running");
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aRepairSaysHowManyRowsItRepairedAndAValidationWordsItsCountOnce() throws Exception {
        db.exec("ALTER TABLE c ADD COLUMN tripled int");
        writeSpec("tripled", """
                table: c
                key: [id]
                set: { tripled: id * 3 }
                validate: [ { target: tripled, source: id * 3 } ]
                """);
        assertThat(Cli.run(args("run", "tripled")).exitCode()).isZero();
        db.exec("UPDATE c SET tripled = -1 WHERE id % 100 = 0");
        Cli.Result repaired = Cli.run(args("run", "tripled", "--only-mismatched"));
        assertThat(repaired.exitCode()).as(repaired.out() + repaired.err()).isZero();
        assertThat(repaired.out()).contains("repaired 200 rows");

        Cli.Result validated = Cli.run(args("validate", "tripled"));
        assertThat(validated.exitCode()).isZero();
        assertThat(validated.out().lines().filter(l -> l.startsWith("validation of")))
                .singleElement()
                .asString()
                .as("one wording, digits grouped")
                .contains("20,000 rows checked")
                .doesNotContain("20000")
                .doesNotContain("validated");
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aRolledBackJobsSyncTriggerIsDroppedByItsRollbackNotMissing() throws Exception {
        db.exec("ALTER TABLE c ADD COLUMN doubled int");
        writeSpec("synced", """
                table: c
                key: [id]
                set: { doubled: id * 2 }
                sync: trigger
                """);
        assertThat(Cli.run(args("run", "synced")).exitCode()).isZero();
        assertThat(Cli.run(args("rollback", "synced")).exitCode()).isZero();
        Cli.Result status = Cli.run(args("status", "synced"));
        assertThat(status.out())
                .contains("sync trigger: dropped by the rollback")
                .doesNotContain("NOT installed");
        assertThat(((Map<?, ?>) json("synced").get("sync")).get("droppedBy")).isEqualTo("rollback");
    }

    @Test
    void planShowsTheRangesParallelCutsAndWhatARowCostsInWordsWithoutAFillfactorAdviceForATableNeverUpdated()
            throws Exception {
        writeSpec("wide", """
                table: c
                key: [id]
                set: { n: n + 1 }
                parallel: 4
                """);
        Cli.run(args("plan", "wide")); // a sample written and rolled back counts in PostgreSQL's statistics
        Cli.Result plan = Cli.run(args("plan", "wide"));
        assertThat(plan.exitCode()).as(plan.err()).isZero();
        List<String> lines = plan.out().lines().toList();
        assertThat(lines).anyMatch(l -> l.contains("parallel") && l.contains("4 ranges"));
        assertThat(lines.stream().filter(l -> l.matches("\\s+range \\d+: keys \\(.*]\\s+~[0-9,]+ rows")))
                .hasSize(4);
        assertThat(lines).anyMatch(l -> l.contains("connections"));
        assertThat(plan.out())
                .doesNotContain("fillfactor =")
                .doesNotContain("bytes of WAL and")
                .containsPattern("sample: .* B of WAL a row, [0-9.]+ ms a row");
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void serveLogsALineWhenAScheduledJobStartsAndOneWithItsOutcomeWhenItEnds() throws Exception {
        writeSpec("served", """
                table: c
                key: [id]
                set: { n: n + 1 }
                schedule: { cron: "* * * * * *" }
                """);
        Process serve = Cli.spawn(dir.resolve("serve.log"), args("serve", "--port", "0"));
        try {
            Eventually.eventually(
                    Duration.ofSeconds(90),
                    "the scheduled run's end logged",
                    () -> Files.readString(dir.resolve("serve.log")),
                    log -> log.contains("job served ended") || !serve.isAlive());
            Thread.sleep(3000); // the cron fires every second: a completed job is not started again, nor logged
        } finally {
            serve.destroy();
            serve.waitFor(60, TimeUnit.SECONDS);
        }
        List<String> lines = Files.readAllLines(dir.resolve("serve.log"));
        assertThat(lines.stream().filter(l -> l.contains("job served started")))
                .singleElement()
                .asString()
                .contains("INFO")
                .contains("its schedule fired");
        assertThat(lines.stream().filter(l -> l.contains("job served ended")))
                .singleElement()
                .asString()
                .contains("COMPLETED")
                .contains("job served completed");
        assertThat(db.count("SELECT count(*) FROM c WHERE n <> 1")).isZero();
    }

    @Test
    void sluiceWithoutACommandPrintsItsUsageAndExitsTwo() {
        Cli.Result none = Cli.run();
        assertThat(none.exitCode()).isEqualTo(2);
        assertThat(none.err()).contains("Usage: sluice").contains("run");
        assertThat(Cli.run(args()).exitCode()).isEqualTo(2);
    }
}
