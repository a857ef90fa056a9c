package dev.sluice.engine.sync;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.ValidationResult;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.spi.Transformer;
import dev.sluice.engine.testing.DatabaseTest;
import dev.sluice.engine.testing.Eventually;
import dev.sluice.engine.testing.LowerEmail;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The interleavings of a chunk and an application write to the same row, each forced with real sessions: a write
 * inside the range a chunk is about to take, rows inserted, moved and deleted behind the checkpoint, and writes
 * after the walk (see the sync package README for why each comes out right).
 */
class SyncRacesTest extends DatabaseTest {

    @BeforeEach
    void database() {
        db.exec(
                "CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, email_lower text)",
                "INSERT INTO users SELECT g * 2, 'User' || g || '@X.ORG' FROM generate_series(1, 3000) g",
                "CREATE TABLE users_v2 (id int PRIMARY KEY, email text)",
                "ANALYZE users");
    }

    private static final String IN_PLACE = """
            name: lower
            table: users
            key: [id]
            sync: trigger
            set: { email_lower: lower(email) }
            validate: [ { target: email_lower, source: lower(email) } ]
            """;

    private static final String COPY = """
            name: copy
            table: users
            key: [id]
            sync: trigger
            into: users_v2
            columns: { id: id, email: lower(email) }
            """;

    /** Slow enough (1,000 rows a second, chunks of 500) that the test acts while the walk is under way. */
    private static JobSpec slow(String spec) {
        return SpecParser.parse(spec + "chunk: { rows: 500, min-rows: 500, max-rows: 500 }\n"
                + "throttle: { rows-per-second: 1000 }\ntimeouts: { lock: 20s }\n");
    }

    private CompletableFuture<RunResult> start(JobSpec spec) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return backfill.run(spec, RunOptions.defaults());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private void triggerInstalled() {
        Eventually.eventually(
                Duration.ofSeconds(30),
                "the sync trigger installed",
                () -> db.count("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'users'::regclass") > 0);
    }

    private void aChunkWaitsForALock() {
        Eventually.eventually(
                Duration.ofSeconds(30),
                "a chunk waiting for a row lock",
                () -> db.count(
                                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")
                        > 0);
    }

    /**
     * Runs the job (slowly) while the application holds an uncommitted update of row 4000 until a chunk waits for
     * its lock, then commits it.
     */
    private RunResult.Outcome runWithAnOpenWriteTheChunkWaitsFor(String spec) throws Exception {
        CompletableFuture<RunResult> run = start(slow(spec));
        if (spec.contains("sync: trigger")) {
            triggerInstalled();
        }
        try (Connection app = ds.getConnection()) {
            app.setAutoCommit(false);
            try (Statement st = app.createStatement()) {
                st.execute("UPDATE users SET email = 'CHANGED@NEW.ORG' WHERE id = 4000");
            }
            aChunkWaitsForALock();
            app.commit();
        }
        return run.get(90, TimeUnit.SECONDS).outcome();
    }

    @Test
    @Timeout(120)
    void aCopyChunkWaitsForAnOpenApplicationWriteSoTheNewerRowWins() throws Exception {
        // Without the chunk's FOR SHARE, the chunk would read row 4000 as it was, wait for the application's mirror
        // upsert of it in the target, then overwrite it with the old value.
        assertThat(runWithAnOpenWriteTheChunkWaitsFor(COPY)).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.one("SELECT email FROM users_v2 WHERE id = 4000")).isEqualTo("changed@new.org");
        assertThat(db.count("SELECT count(*) FROM users u JOIN users_v2 v USING (id) WHERE v.email = lower(u.email)"))
                .isEqualTo(3000);
    }

    @Test
    @Timeout(120)
    void aJavaChunkWritesTheNewerRowWhenTheRowChangedAfterItWasRead() throws Exception {
        // Java mode reads without a lock (and reads ahead); its write checks the row version it read. Without that
        // check the chunk would wait for the application's write, then overwrite it with the transform of the old
        // email. No sync trigger here: nothing else would put the row right.
        Transformer lower = new LowerEmail();
        backfill = Backfill.builder(ds)
                .transformers(name -> name.equals("lower") ? lower : null)
                .build();
        assertThat(runWithAnOpenWriteTheChunkWaitsFor("name: java\ntable: users\nkey: [id]\ntransformer: lower\n"))
                .isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.one("SELECT email_lower FROM users WHERE id = 4000")).isEqualTo("changed@new.org");
        assertThat(db.count("SELECT count(*) FROM users WHERE email_lower = lower(email)"))
                .isEqualTo(3000);
    }

    @Test
    @Timeout(120)
    void anInPlaceChunkWaitsForAnOpenApplicationWriteAndComputesFromIt() throws Exception {
        assertThat(runWithAnOpenWriteTheChunkWaitsFor(IN_PLACE)).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.one("SELECT email_lower FROM users WHERE id = 4000")).isEqualTo("changed@new.org");
    }

    @Test
    @Timeout(120)
    void rowsInsertedMovedAndChangedBehindTheCheckpointAreKeptInStep() throws Exception {
        CompletableFuture<RunResult> run = start(slow(IN_PLACE));
        Eventually.eventually(
                Duration.ofSeconds(60),
                "the checkpoint past key 2000",
                () -> backfill.status("lower"),
                s -> !s.lastKey().isEmpty() && Integer.parseInt(s.lastKey().get(0)) >= 2000);
        db.exec(
                "INSERT INTO users (id, email) VALUES (1, 'BELOW@X.ORG')", // a key below the checkpoint
                "UPDATE users SET email = 'AGAIN@X.ORG' WHERE id = 10", // a row already written
                "UPDATE users SET id = 3 WHERE id = 5998", // not yet written, moved behind the checkpoint
                "UPDATE users SET id = 7001 WHERE id = 20", // written, moved above everything
                "DELETE FROM users WHERE id = 30");
        assertThat(run.get(90, TimeUnit.SECONDS).outcome()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.count("SELECT count(*) FROM users WHERE email_lower IS DISTINCT FROM lower(email)"))
                .isZero();
        assertThat(db.one("SELECT email_lower FROM users WHERE id = 3")).isEqualTo("user2999@x.org");

        // After the walk, the trigger alone keeps it so, until finish.
        db.exec(
                "INSERT INTO users (id, email) VALUES (99999, 'LATE@X.ORG')",
                "UPDATE users SET email = 'Z@Z' WHERE id = 40");
        assertThat(db.one("SELECT email_lower FROM users WHERE id = 99999")).isEqualTo("late@x.org");
        ValidationResult v = backfill.validate(SpecParser.parse(IN_PLACE), RunOptions.defaults());
        assertThat(v.mismatches()).isZero();
        assertThat(backfill.require("lower")).hasSize(1);
        assertThat(backfill.finish("lower", "test").ok()).isTrue();
        db.exec("UPDATE users SET email = 'AFTER@FINISH' WHERE id = 40");
        assertThat(db.one("SELECT email_lower FROM users WHERE id = 40")).isEqualTo("z@z");
        assertThat(backfill.status("lower").state()).isEqualTo(JobStatus.State.FINISHED);
    }

    @Test
    @Timeout(60)
    void theMirrorCastsTheOldKeyAsTheChunksInsertDoes() throws Exception {
        // The target's key is text where the source's is int: the chunks' INSERT casts on assignment, and so must
        // the mirror's DELETE, or every delete and key change of the application would fail.
        db.exec("CREATE TABLE users_t (id_t text PRIMARY KEY, email text)");
        JobSpec spec = SpecParser.parse("""
                name: typed
                table: users
                key: [id]
                sync: trigger
                into: users_t
                columns: { id_t: id, email: email }
                """);
        assertThat(backfill.run(spec, RunOptions.defaults()).outcome()).isEqualTo(RunResult.Outcome.COMPLETED);
        db.exec("DELETE FROM users WHERE id = 2", "UPDATE users SET id = 5 WHERE id = 4");
        assertThat(db.column("SELECT id_t FROM users_t WHERE id_t IN ('2', '4', '5') ORDER BY id_t"))
                .containsExactly("5");
    }

    @Test
    @Timeout(120)
    void theMirrorFollowsInsertsDeletesKeyChangesAndTheFilter() throws Exception {
        JobSpec spec = SpecParser.parse(COPY.replace("columns:", "where: \"email NOT LIKE 'SKIP%'\"\ncolumns:"));
        assertThat(backfill.run(spec, RunOptions.defaults()).outcome()).isEqualTo(RunResult.Outcome.COMPLETED);
        db.exec(
                "INSERT INTO users (id, email) VALUES (1, 'NEW@X')", "DELETE FROM users WHERE id = 2",
                "UPDATE users SET id = 3 WHERE id = 4", "UPDATE users SET email = 'SKIP ME' WHERE id = 6",
                "UPDATE users SET email = 'Changed' WHERE id = 8",
                        "INSERT INTO users (id, email) VALUES (7, 'SKIP too')");
        assertThat(db.column("SELECT id || '=' || email FROM users_v2 WHERE id <= 8 ORDER BY id"))
                .containsExactly("1=new@x", "3=user2@x.org", "8=changed");
        assertThat(backfill.validate(spec, RunOptions.defaults()).mismatches()).isZero();
    }
}
