package dev.sluice.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.DatabaseTest;
import dev.sluice.engine.testing.Eventually;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The audit trail: each verb that changes a job leaves a row saying who (the actor a Backfill acts for: its
 * operating-system user and host, or an HTTP principal and address), the database user and the address the server
 * saw, the spec's digest, the options (never a secret) and the outcome. Bad input leaves none; {@code forget} deletes
 * the job's records but not its trail.
 */
class AuditTest extends DatabaseTest {

    private static final String SPEC = """
            name: audited
            table: t
            key: [id]
            set: { n: n + 1 }
            chunk: { rows: 200, min-rows: 200, max-rows: 200 }
            validate: [ { check: "n = 1" } ]
            """;

    private final Actor alice = new Actor("cli", "alice", "ops-1", null, null);

    @BeforeEach
    void table() {
        db.counters("t", 2000);
    }

    private List<AuditEntry> trail() throws Exception {
        return backfill.history("audited");
    }

    @Test
    void aRunIsRecordedWithWhoAskedTheDatabaseUserTheClientAddressAndTheSpecsDigest() throws Exception {
        JobSpec spec = SpecParser.parse(SPEC);
        RunResult r = backfill.as(alice).run(spec, RunOptions.defaults());
        assertThat(r.outcome()).isEqualTo(RunResult.Outcome.COMPLETED);

        AuditEntry e = trail().get(0);
        assertThat(trail()).hasSize(1);
        assertThat(e.command()).isEqualTo("run");
        assertThat(e.actor()).isEqualTo(alice);
        assertThat(e.databaseUser()).isEqualTo(db.one("SELECT session_user"));
        assertThat(e.clientAddress()).isEqualTo(db.one("SELECT host(inet_client_addr())"));
        assertThat(e.specDigest())
                .hasSize(64)
                .isEqualTo(backfill.history("audited").get(0).specDigest());
        assertThat(e.outcome()).isEqualTo("completed");
        assertThat(e.ended()).isAfterOrEqualTo(e.at());
        assertThat(e.options()).isEmpty();

        // Again with --again: the option is recorded, the same spec has the same digest.
        backfill.as(alice).run(spec, RunOptions.defaults().again(true));
        assertThat(trail()).hasSize(2);
        assertThat(trail().get(1).options()).containsEntry("again", true);
        assertThat(trail().get(1).specDigest()).isEqualTo(e.specDigest());

        // A validation changes no row, but its verdict is what require and finish go by: recorded when it ends.
        assertThat(backfill.as(alice).validate(spec, RunOptions.defaults()).outcome())
                .isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(trail().get(2).command()).isEqualTo("validate");
        assertThat(trail().get(2).outcome()).isEqualTo("completed");
    }

    @Test
    void badInputLeavesNoRowAndAFailureIsRecordedAsFailed() throws Exception {
        assertThatThrownBy(
                        () -> backfill.run(SpecParser.parse(SPEC.replace("n + 1", "nope + 1")), RunOptions.defaults()))
                .isInstanceOf(SpecException.class);
        assertThat(db.exists("sluice.audit"))
                .as("nothing written for bad input, not even the schema")
                .isFalse();

        RunResult failed =
                backfill.run(SpecParser.parse(SPEC.replace("n + 1", "n + 1 / (id - 1500)")), RunOptions.defaults());
        assertThat(failed.outcome()).isEqualTo(RunResult.Outcome.FAILED);
        assertThat(trail()).extracting(AuditEntry::outcome).containsExactly("failed");
        assertThat(trail().get(0).message()).contains("division by zero");
        // The repository exists now: bad input still leaves no row.
        assertThatThrownBy(
                        () -> backfill.run(SpecParser.parse(SPEC.replace("n + 1", "nope + 1")), RunOptions.defaults()))
                .isInstanceOf(SpecException.class);
        assertThat(trail()).hasSize(1);
    }

    @Test
    @Timeout(120)
    void requestsToARunningJobAreRecordedWithTheHttpPrincipalAndAddressAndTheirOptions() throws Exception {
        JobSpec slow = SpecParser.parse(SPEC + "throttle: { rows-per-second: 400 }\n");
        CompletableFuture<RunResult> run = CompletableFuture.supplyAsync(() -> {
            try {
                return backfill.as(alice).run(slow, RunOptions.defaults());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Eventually.eventually(
                Duration.ofSeconds(30),
                "running",
                () -> backfill.status("audited").running());
        Actor bob = Actor.process("cli").request("api", "bob", "10.1.2.3");
        Backfill asBob = backfill.as(bob);
        Backfill.ControlResult tuned = asBob.control(
                "audited", new ControlRequest(ControlRequest.Command.TUNE, 900L, null), Duration.ofSeconds(10), null);
        assertThat(tuned.ok()).as(tuned.message()).isTrue();
        Backfill.ControlResult paused = asBob.control("audited", ControlRequest.pause(), Duration.ofSeconds(30), null);
        assertThat(paused.ok()).as(paused.message()).isTrue();
        assertThat(run.get(60, TimeUnit.SECONDS).outcome()).isEqualTo(RunResult.Outcome.STOPPED);

        List<AuditEntry> trail = trail();
        assertThat(trail).extracting(AuditEntry::command).containsExactly("run", "tune", "pause");
        assertThat(trail.get(0).outcome()).isEqualTo("stopped");
        AuditEntry tune = trail.get(1);
        assertThat(tune.actor().principal()).isEqualTo("bob");
        assertThat(tune.actor().origin()).isEqualTo("10.1.2.3");
        assertThat(tune.actor().via()).isEqualTo("api");
        assertThat(tune.options()).containsEntry("rowsPerSecond", 900);
        assertThat(tune.outcome()).isEqualTo("done");
        assertThat(tune.specDigest()).isEqualTo(trail.get(0).specDigest());
        assertThat(trail.get(2).message()).contains("pause taken");

        // Resumed, then cancelled while paused (at once, not running): both recorded; a pause of a job not running
        // is refused, and says so.
        Backfill.ControlResult again = asBob.control("audited", ControlRequest.pause(), Duration.ofSeconds(1), null);
        assertThat(again.ok()).isFalse();
        Backfill.ControlResult cancelled = asBob.control(
                "audited", new ControlRequest(ControlRequest.Command.CANCEL, null, null), Duration.ofSeconds(5), null);
        assertThat(cancelled.ok()).as(cancelled.message()).isTrue();
        assertThat(trail())
                .extracting(AuditEntry::command, AuditEntry::outcome)
                .endsWith(
                        org.assertj.core.groups.Tuple.tuple("pause", "refused"),
                        org.assertj.core.groups.Tuple.tuple("cancel", "done"));
    }

    @Test
    @Timeout(120)
    void rollbackFinishPurgeAndForgetAreRecordedAndForgetKeepsTheTrail() throws Exception {
        JobSpec spec = SpecParser.parse(SPEC);
        backfill.as(alice).run(spec, RunOptions.defaults());
        assertThat(backfill.as(alice)
                        .rollback("audited", RunOptions.defaults(), false)
                        .outcome())
                .isEqualTo(RunResult.Outcome.COMPLETED);
        Backfill.ControlResult forgotten = backfill.as(alice).forget("audited");
        assertThat(forgotten.ok()).as(forgotten.message()).isTrue();
        assertThat(db.count("SELECT count(*) FROM sluice.batch_job_instance WHERE job_name LIKE 'audited%'"))
                .isZero();
        assertThat(backfill.status("audited").state()).isEqualTo(JobStatus.State.NOT_STARTED);
        assertThat(trail())
                .extracting(AuditEntry::command, AuditEntry::outcome)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("run", "completed"),
                        org.assertj.core.groups.Tuple.tuple("rollback", "completed"),
                        org.assertj.core.groups.Tuple.tuple("forget", "done"));

        // A finished job keeps its journal until it is purged: forget is refused until then.
        backfill.as(alice).run(spec, RunOptions.defaults());
        FinishResult finished = backfill.as(alice).finish("audited", null, false, null);
        assertThat(finished.finished()).as(finished.message()).isTrue();
        Backfill.ControlResult refused = backfill.as(alice).forget("audited");
        assertThat(refused.ok()).isFalse();
        assertThat(refused.message()).contains("undo journal");
        FinishResult purged = backfill.as(alice).finish("audited", null, true, null);
        assertThat(purged.message()).contains("purge");
        assertThat(backfill.as(alice).forget("audited").ok()).isTrue();
        assertThat(trail())
                .extracting(AuditEntry::command, AuditEntry::outcome)
                .endsWith(
                        org.assertj.core.groups.Tuple.tuple("run", "completed"),
                        org.assertj.core.groups.Tuple.tuple("finish", "finished"),
                        org.assertj.core.groups.Tuple.tuple("forget", "refused"),
                        org.assertj.core.groups.Tuple.tuple("purge", "already_finished"),
                        org.assertj.core.groups.Tuple.tuple("forget", "done"));
        assertThat(db.count("SELECT count(*) FROM sluice.undo_journal")).isZero();
    }

    @Test
    void aRunningOrCompletedJobIsNotForgottenAndAnUnknownOneIsBadInput() throws Exception {
        assertThatThrownBy(() -> backfill.forget("audited"))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("no job named audited");
        backfill.run(SpecParser.parse(SPEC), RunOptions.defaults());
        Backfill.ControlResult r = backfill.forget("audited");
        assertThat(r.ok()).isFalse();
        assertThat(r.message()).contains("COMPLETED");
        assertThat(backfill.status("audited").state()).isEqualTo(JobStatus.State.COMPLETED);
    }
}
