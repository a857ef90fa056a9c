package dev.sluice.engine.undo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.NextStep;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.StopSignal;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.spi.Transformer;
import dev.sluice.engine.testing.DatabaseTest;
import dev.sluice.engine.testing.Eventually;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Rollback restores a table's every byte (a checksum of all rows in key order) from the journal each chunk wrote,
 * in every mode, on whichever server the tests run against: PostgreSQL 18 journals with {@code RETURNING OLD},
 * older servers with a locked read in the chunk's statement.
 */
class RollbackTest extends DatabaseTest {

    @BeforeEach
    void seed() {
        db.exec(
                "CREATE TABLE acct (region text COLLATE \"C\" NOT NULL, handle text COLLATE \"C\" NOT NULL,"
                        + " email text, balance numeric(12, 2), seen timestamptz, idle interval, tags text[],"
                        + " PRIMARY KEY (region, handle))",
                "INSERT INTO acct SELECT r, 'H' || g || CASE WHEN g % 3 = 0 THEN 'é' ELSE 'Z' END,"
                        + " CASE WHEN g % 11 = 0 THEN NULL ELSE ' Mail' || g || '@X.org ' END, g * 1.25,"
                        + " '2024-03-10 01:30:00+00'::timestamptz + g * interval '17 minutes', g * interval '1 day 3 sec',"
                        + " ARRAY['a,b', NULL, 'q\"'] FROM generate_series(1, 3000) g, unnest(ARRAY['eu', 'us']) r",
                "ANALYZE acct");
    }

    private static JobSpec spec(String body) {
        return SpecParser.parse("chunk: { rows: 700, min-rows: 700, max-rows: 700 }\n" + body);
    }

    @Test
    void rowsTheApplicationWroteWhileTheSyncTriggerWasInstalledAreRolledBackTooAndCounted() throws Exception {
        db.exec(
                "CREATE TABLE items (id bigint PRIMARY KEY, email text NOT NULL, email_lower text)",
                "INSERT INTO items (id, email) SELECT g * 2, 'User' || g || '@X.ORG' FROM generate_series(1, 5000) g",
                "ANALYZE items");
        // As the application would have it without Sluice: it never writes email_lower.
        JobSpec spec =
                spec("name: lowered\ntable: items\nkey: [id]\nset: { email_lower: lower(email) }\nsync: trigger\n");
        AtomicInteger chunks = new AtomicInteger();
        RunResult run = backfill.run(spec, RunOptions.defaults().withObserver(report -> {
            if (chunks.incrementAndGet() == 3) {
                // Behind the checkpoint (new odd keys, changed rows), and ahead of it, while the trigger is installed.
                db.exec(
                        "INSERT INTO items (id, email) SELECT g * 2 + 1, 'Low' || g || '@X.ORG' FROM generate_series(1, 300) g",
                        "UPDATE items SET email = 'Changed' || id || '@Y.ORG' WHERE id BETWEEN 2 AND 400",
                        "INSERT INTO items (id, email) SELECT 100000 + g, 'High' || g || '@X.ORG' FROM generate_series(1, 200) g");
            }
        }));
        assertThat(run.outcome()).as(run.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.count("SELECT count(*) FROM items WHERE email_lower IS DISTINCT FROM lower(email)"))
                .isZero();
        db.exec(
                "INSERT INTO items (id, email) VALUES (999999, 'After@Z.ORG')",
                "UPDATE items SET email = 'Again@Z.ORG' WHERE id = 9");
        String applications = "SELECT count(*) FROM items WHERE email = 'Again@Z.ORG' OR email LIKE 'Changed%'"
                + " OR email LIKE 'Low%' OR email LIKE 'High%' OR email = 'After@Z.ORG'";
        long written = db.count(applications);

        RunResult rolledBack = backfill.rollback("lowered", RunOptions.defaults(), false);
        assertThat(rolledBack.outcome()).as(rolledBack.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(rolledBack.message()).contains("written by its sync trigger as the application wrote them");
        assertThat(db.count("SELECT count(*) FROM items WHERE email_lower IS NOT NULL"))
                .as("rows still holding what" + " Sluice or its trigger computed")
                .isZero();
        assertThat(db.count(applications))
                .as("the application's own writes stay")
                .isEqualTo(written);
    }

    @Test
    @Timeout(120)
    void aRowAnotherSessionChangesWhileTheChunkWaitsOnItIsJournaledWithWhatThatSessionWrote() throws Exception {
        // Before PostgreSQL 18 the chunk reads its pre-images unlocked and writes by row version: the changed row's
        // new version is not the one read, so the chunk rolls back and runs again with its rows locked. On 18 the
        // UPDATE returns what it overwrote itself. Either way the journal holds what the other session wrote.
        db.exec(
                "CREATE TABLE race (id bigint PRIMARY KEY, email text NOT NULL, email_lower text)",
                "INSERT INTO race SELECT g, 'User' || g || '@X.ORG', 'old' || g FROM generate_series(1, 3000) g",
                "ANALYZE race");
        String before = db.checksum("race", "id");
        JobSpec spec = spec("name: race\ntable: race\nkey: [id]\nset: { email_lower: lower(email) }\n"
                + "timeouts: { lock: 30s }\n");
        CompletableFuture<RunResult> run;
        try (Connection other = ds.getConnection()) {
            other.setAutoCommit(false);
            try (Statement st = other.createStatement()) {
                st.execute("UPDATE race SET email = 'Theirs@X.ORG', email_lower = 'theirs' WHERE id = 1500");
            }
            run = CompletableFuture.supplyAsync(() -> {
                try {
                    return backfill.run(spec, RunOptions.defaults());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Eventually.eventually(
                    Duration.ofSeconds(30),
                    "a chunk waiting for the row's lock",
                    () -> db.count("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                    + " AND datname = current_database()")
                            > 0);
            other.commit();
        }
        RunResult done = run.get(90, TimeUnit.SECONDS);
        assertThat(done.outcome()).as(done.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.count("SELECT count(*) FROM race WHERE email_lower IS DISTINCT FROM lower(email)"))
                .isZero();
        assertThat(db.one("SELECT email_lower FROM race WHERE id = 1500")).isEqualTo("theirs@x.org");

        RunResult rolledBack = backfill.rollback("race", RunOptions.defaults(), false);
        assertThat(rolledBack.outcome()).as(rolledBack.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.one("SELECT email_lower FROM race WHERE id = 1500"))
                .as("the pre-image the other session wrote, not the one before it")
                .isEqualTo("theirs");
        db.exec("UPDATE race SET email = 'User1500@X.ORG', email_lower = 'old1500' WHERE id = 1500");
        assertThat(db.checksum("race", "id")).isEqualTo(before);
    }

    @Test
    void aPartitionedTableIsRestoredRowForRowThoughItsPartitionsNumberTheirRowsAlike() throws Exception {
        // Loaded in one transaction, alternately: each partition's k-th row has the same place (ctid) and the same
        // writer (xmin) as the other's, and a chunk of the key (id, region) holds both. Before PostgreSQL 18 the
        // chunk finds its rows again by version: without the partition, it took one partition's pre-image for the
        // other's row.
        db.exec(
                "CREATE TABLE parts (id bigint NOT NULL, region text NOT NULL, note text, PRIMARY KEY (id, region))"
                        + " PARTITION BY LIST (region)",
                "CREATE TABLE parts_eu PARTITION OF parts FOR VALUES IN ('eu')",
                "CREATE TABLE parts_us PARTITION OF parts FOR VALUES IN ('us')",
                "INSERT INTO parts SELECT g, r, r || '-before-' || g FROM generate_series(1, 2000) g,"
                        + " unnest(ARRAY['eu', 'us']) r",
                "ANALYZE parts");
        String before = db.checksum("parts", "id, region");
        JobSpec spec = spec("name: parts\ntable: parts\nkey: [id, region]\nset: { note: upper(note) }\n");
        RunResult run = backfill.run(spec, RunOptions.defaults());
        assertThat(run.outcome()).as(run.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.count("SELECT count(*) FROM parts WHERE note = upper(region || '-before-' || id)"))
                .isEqualTo(4000);

        RunResult rolledBack = backfill.rollback("parts", RunOptions.defaults(), false);
        assertThat(rolledBack.outcome()).as(rolledBack.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.count("SELECT count(*) FROM parts WHERE note <> region || '-before-' || id"))
                .as("rows given another partition's pre-image")
                .isZero();
        assertThat(db.checksum("parts", "id, region")).isEqualTo(before);
    }

    @Test
    void anInPlaceBackfillOverCompositeCollatedKeysIsRestoredAndRowsChangedSinceAreLeftUnlessForced() throws Exception {
        String before = db.checksum("acct", "region, handle");
        JobSpec spec = spec("""
                name: tidy
                table: acct
                key: [region, handle]
                set: { email: lower(trim(email)), balance: balance * 1.19, seen: now(), idle: NULL, tags: NULL }
                """);
        assertThat(backfill.run(spec, RunOptions.defaults()).outcome()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.checksum("acct", "region, handle")).isNotEqualTo(before);
        JobStatus done = backfill.status("tidy");
        assertThat(done.undo().rows()).isEqualTo(6000);
        assertThat(done.undo().bytes()).isPositive();

        // A new run that writes otherwise would leave entries that the rollback would read with the wrong columns.
        JobSpec changed = spec("name: tidy\ntable: acct\nkey: [region, handle]\nset: { email: upper(email) }\n");
        assertThatThrownBy(() -> backfill.run(changed, RunOptions.defaults().again(true)))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("set")
                .hasMessageContaining("roll the job back first");

        db.exec("UPDATE acct SET email = 'theirs' WHERE region = 'us' AND handle = 'H9é'");
        RunResult kept = backfill.rollback("tidy", RunOptions.defaults(), false);
        assertThat(kept.outcome()).as(kept.message()).isEqualTo(RunResult.Outcome.MISMATCHES);
        assertThat(kept.message())
                .contains("1 rows changed by others")
                .contains("key us, H9é: now (theirs,")
                .contains("would restore {\" Mail9@X.org \",11.25,");
        assertThat(db.one("SELECT email FROM acct WHERE region = 'us' AND handle = 'H9é'"))
                .isEqualTo("theirs");
        assertThat(db.one("SELECT email FROM acct WHERE region = 'us' AND handle = 'H10Z'"))
                .isEqualTo(" Mail10@X.org ");

        // The rows left are restorable only from the journal: no run, new or not, until they are restored.
        for (RunOptions options :
                List.of(RunOptions.defaults(), RunOptions.defaults().again(true))) {
            RunResult refused = backfill.run(spec, options);
            assertThat(refused.outcome()).isEqualTo(RunResult.Outcome.NOT_RUNNABLE);
            assertThat(refused.message()).contains("rollback left 1 rows changed by others");
            assertThat(refused.next()).isEqualTo(NextStep.force("tidy"));
        }

        RunResult forced = backfill.rollback("tidy", RunOptions.defaults(), true);
        assertThat(forced.outcome()).as(forced.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.checksum("acct", "region, handle")).isEqualTo(before);
        assertThat(backfill.status("tidy").state()).isEqualTo(JobStatus.State.ROLLED_BACK);
    }

    @Test
    void aChangeThatTheTypesEqualityCannotSeeIsStillAChange() throws Exception {
        db.exec(
                "CREATE TABLE docs (id int PRIMARY KEY, doc json, span interval, amount numeric, title text)",
                "INSERT INTO docs SELECT g, NULL, NULL, NULL, 'T' || g FROM generate_series(1, 100) g");
        JobSpec spec = spec("""
                name: docs
                table: docs
                key: [id]
                set:
                  doc: "'{\\"a\\":1}'::json"
                  span: interval '1 day'
                  amount: 1.5
                  title: upper(title)
                """);
        assertThat(backfill.run(spec, RunOptions.defaults()).outcome()).isEqualTo(RunResult.Outcome.COMPLETED);
        // Each equal to what Sluice wrote by its type's equality (json has none), but not the same value; the
        // last one the same value, written again.
        db.exec(
                "UPDATE docs SET doc = '{\"a\": 1}' WHERE id = 1",
                "UPDATE docs SET span = interval '24 hours' WHERE id = 2",
                "UPDATE docs SET amount = 1.50 WHERE id = 3",
                "UPDATE docs SET title = 'T4' || '' WHERE id = 4",
                "DELETE FROM docs WHERE id = 5");
        RunResult kept = backfill.rollback("docs", RunOptions.defaults(), false);
        assertThat(kept.message())
                .contains("3 rows changed by others")
                .contains("key 1:")
                .contains("key 2:")
                .contains("key 3:")
                .doesNotContain("key 4:")
                .contains("1 rows deleted by others since were not brought back");
        assertThat(db.count("SELECT count(*) FROM docs WHERE doc IS NULL")).isEqualTo(96);
    }

    @Test
    void planSizesTheJournalByWhatTheValuesTakeStoredNotByTheirPointers() throws Exception {
        // 200 rows of ~19 KB each, stored out of line (the planner's statistics see a pointer of ~18 bytes).
        db.exec(
                "CREATE TABLE big (id int PRIMARY KEY, body text)",
                "INSERT INTO big SELECT g, (SELECT string_agg(md5(random()::text || g || i), '') FROM generate_series(1, 600) i)"
                        + " FROM generate_series(1, 200) g",
                "ANALYZE big");
        JobSpec spec = spec("name: big\ntable: big\nkey: [id]\nset: { body: upper(body) }\n");
        String undo = backfill.plan(spec).findings().stream()
                .filter(f -> f.check().equals("undo"))
                .findFirst()
                .orElseThrow()
                .detail();
        assertThat(undo).containsPattern("journal of ~200 rows, ~[1-9][0-9.]* MB");
        RunResult ran = backfill.run(spec, RunOptions.defaults());
        assertThat(ran.outcome()).as(ran.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        double estimated = Double.parseDouble(undo.replaceAll(".*~([0-9.]+) MB.*", "$1"));
        double stored = backfill.status("big").undo().bytes() / (double) (1 << 20);
        assertThat(estimated).as("estimate against the journal as stored").isBetween(stored / 3, stored * 3);
    }

    @Test
    void aRollbackStoppedMidWayContinuesWhereItStopped() throws Exception {
        String before = db.checksum("acct", "region, handle");
        JobSpec spec = spec("name: halves\ntable: acct\nkey: [region, handle]\nset: { balance: balance / 2 }\n");
        StopSignal stop = new StopSignal();
        AtomicInteger chunks = new AtomicInteger();
        RunOptions stopAfterThree = RunOptions.defaults().withStop(stop).withObserver(r -> {
            if (chunks.incrementAndGet() == 3) {
                stop.request("test");
            }
        });
        assertThat(backfill.run(spec, stopAfterThree).outcome()).isEqualTo(RunResult.Outcome.STOPPED);
        assertThat(backfill.run(spec, RunOptions.defaults()).outcome()).isEqualTo(RunResult.Outcome.COMPLETED);

        StopSignal again = new StopSignal();
        AtomicInteger restored = new AtomicInteger();
        RunResult stopped = backfill.rollback(
                "halves",
                RunOptions.defaults().withStop(again).withObserver(r -> {
                    if (restored.incrementAndGet() == 4) {
                        again.request("test");
                    }
                }),
                false);
        assertThat(stopped.outcome()).isEqualTo(RunResult.Outcome.STOPPED);
        JobStatus halfway = backfill.status("halves");
        assertThat(halfway.state()).isEqualTo(JobStatus.State.STOPPED);
        assertThat(halfway.lastError()).contains("the rollback stopped before it restored every row");
        assertThat(db.checksum("acct", "region, handle")).isNotEqualTo(before);
        // The entries not yet restored hold the only copy of those rows' earlier values: no new run over them.
        long left = backfill.status("halves").undo().rows();
        RunResult anew = backfill.run(spec, RunOptions.defaults().again(true));
        assertThat(anew.outcome()).isEqualTo(RunResult.Outcome.NOT_RUNNABLE);
        assertThat(anew.message()).contains("rollback is unfinished: continue it");
        assertThat(anew.next()).isEqualTo(NextStep.continues(JobStatus.Work.ROLLBACK, "halves"));
        RunResult plain = backfill.run(spec, RunOptions.defaults());
        assertThat(plain.outcome()).as("not 'already complete'").isEqualTo(RunResult.Outcome.NOT_RUNNABLE);
        assertThat(plain.message()).contains("rollback is unfinished");
        assertThat(backfill.status("halves").undo().rows()).isEqualTo(left);
        RunResult finished = backfill.rollback("halves", RunOptions.defaults(), false);
        assertThat(finished.outcome()).as(finished.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.checksum("acct", "region, handle")).isEqualTo(before);
    }

    @Test
    void aCopyLosesTheRowsItInsertedAndGetsBackTheRowsItReplaced() throws Exception {
        db.exec(
                "CREATE TABLE acct_v2 (region text COLLATE \"C\", handle text COLLATE \"C\", email text,"
                        + " balance numeric(12, 2), note text, PRIMARY KEY (region, handle))",
                "INSERT INTO acct_v2 SELECT region, handle, 'old', -1, 'kept' FROM acct WHERE balance < 500");
        String before = db.checksum("acct_v2", "region, handle");
        JobSpec spec = spec("""
                name: copy
                table: acct
                key: [region, handle]
                into: acct_v2
                columns: { region: region, handle: handle, email: lower(email), balance: balance }
                """);
        RunResult ran = backfill.run(spec, RunOptions.defaults());
        assertThat(ran.outcome()).as(ran.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.count("SELECT count(*) FROM acct_v2")).isEqualTo(6000);
        assertThat(db.count("SELECT count(*) FROM sluice.undo_journal, unnest(existed) e WHERE e"))
                .as("replaced rows journaled with their pre-images")
                .isEqualTo(798);
        // A row the copy inserted, since given a note by the application (a column the copy does not write).
        db.exec("UPDATE acct_v2 SET note = 'theirs' WHERE region = 'us' AND handle = 'H2999Z'");
        RunResult kept = backfill.rollback("copy", RunOptions.defaults(), false);
        assertThat(kept.outcome()).as(kept.message()).isEqualTo(RunResult.Outcome.MISMATCHES);
        assertThat(kept.message()).contains("1 rows changed by others").contains("key us, H2999Z");
        assertThat(db.count("SELECT count(*) FROM acct_v2 WHERE note = 'theirs'"))
                .isEqualTo(1);
        RunResult rolledBack = backfill.rollback("copy", RunOptions.defaults(), true);
        assertThat(rolledBack.outcome()).as(rolledBack.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.checksum("acct_v2", "region, handle")).isEqualTo(before);
    }

    @Test
    void aCopyWhoseKeyTheTargetRoundsFindsTheRowsItReplaced() throws Exception {
        db.exec(
                "CREATE TABLE fine (id numeric(12, 3) PRIMARY KEY, v text)",
                "INSERT INTO fine SELECT g + 0.001, 'new' || g FROM generate_series(1, 100) g",
                "CREATE TABLE coarse (id numeric(10, 2) PRIMARY KEY, v text)",
                "INSERT INTO coarse SELECT g, 'old' || g FROM generate_series(1, 50) g");
        String before = db.checksum("coarse", "id");
        RunResult ran = backfill.run(spec("""
                name: round
                table: fine
                key: [id]
                into: coarse
                columns: { id: id, v: v }
                validate-after-run: false
                """), RunOptions.defaults());
        assertThat(ran.outcome()).as(ran.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.count("SELECT count(*) FROM coarse")).isEqualTo(100);
        assertThat(db.count("SELECT count(*) FROM sluice.undo_journal, unnest(existed) e WHERE e"))
                .isEqualTo(50);
        RunResult rolledBack = backfill.rollback("round", RunOptions.defaults(), false);
        assertThat(rolledBack.outcome()).as(rolledBack.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.checksum("coarse", "id")).isEqualTo(before);
    }

    @Test
    void aJavaTransformerJobIsRestored() throws Exception {
        String before = db.checksum("acct", "region, handle");
        Transformer shout = new Transformer() {
            @Override
            public List<String> reads() {
                return List.of("email");
            }

            @Override
            public List<String> writes() {
                return List.of("email", "idle");
            }

            @Override
            public Map<String, Object> transform(Row row) {
                String email = row.text("email");
                return email == null ? null : Map.of("email", email.toUpperCase(Locale.ROOT), "idle", "1 hour");
            }
        };
        Backfill backfill = Backfill.builder(ds)
                .transformers(name -> name.equals("shout") ? shout : null)
                .build();
        JobSpec spec = spec("name: shout\ntable: acct\nkey: [region, handle]\ntransformer: shout\n");
        RunResult ran = backfill.run(spec, RunOptions.defaults());
        assertThat(ran.outcome()).as(ran.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.checksum("acct", "region, handle")).isNotEqualTo(before);
        RunResult rolledBack = backfill.rollback("shout", RunOptions.defaults(), false);
        assertThat(rolledBack.outcome()).as(rolledBack.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.checksum("acct", "region, handle")).isEqualTo(before);
    }

    @Test
    void aJavaJobOnAPartitionedTableWritesAndRestoresEachPartitionsOwnRows() throws Exception {
        // Each partition's k-th row has the same place (ctid) and writer (xmin) as the other's: a Java chunk that
        // found its rows by version alone would write one partition's result into the other's row.
        db.exec(
                "CREATE TABLE jparts (id bigint NOT NULL, region text NOT NULL, note text, PRIMARY KEY (id, region))"
                        + " PARTITION BY LIST (region)",
                "CREATE TABLE jparts_eu PARTITION OF jparts FOR VALUES IN ('eu')",
                "CREATE TABLE jparts_us PARTITION OF jparts FOR VALUES IN ('us')",
                "INSERT INTO jparts SELECT g, r, r || '-before-' || g FROM generate_series(1, 2000) g,"
                        + " unnest(ARRAY['eu', 'us']) r",
                "ANALYZE jparts");
        String before = db.checksum("jparts", "id, region");
        Transformer upper = transformer("note", "note", v -> v.toUpperCase(Locale.ROOT));
        Backfill backfill =
                ranToCompletion(upper, spec("name: jparts\ntable: jparts\nkey: [id, region]\ntransformer: t\n"));
        assertThat(db.count("SELECT count(*) FROM jparts WHERE note = upper(region || '-before-' || id)"))
                .isEqualTo(4000);
        RunResult rolledBack = backfill.rollback("jparts", RunOptions.defaults(), false);
        assertThat(rolledBack.outcome()).as(rolledBack.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.checksum("jparts", "id, region")).isEqualTo(before);
    }

    @Test
    void aRowChangedBetweenAJavaChunksReadAndItsWriteIsWrittenFromWhatTheOtherSessionWroteAndRestoredToIt()
            throws Exception {
        // The transformer itself changes row 1500 from another session when it first sees it: between the chunk's
        // read and its write, as an application would. The write by version skips the row (it has a new place and
        // xmin); the locked path reads it again and writes it from the other session's email.
        db.exec(
                "CREATE TABLE jrace (id bigint PRIMARY KEY, email text NOT NULL, email_lower text)",
                "INSERT INTO jrace SELECT g, 'User' || g || '@X.ORG', 'old' || g FROM generate_series(1, 3000) g",
                "ANALYZE jrace");
        String before = db.checksum("jrace", "id");
        AtomicInteger sights = new AtomicInteger();
        Transformer lower = transformer("email", "email_lower", email -> {
            boolean row1500 = email.equals("User1500@X.ORG") || email.equals("Theirs@X.ORG");
            if (row1500 && sights.getAndIncrement() == 0) {
                db.exec("UPDATE jrace SET email = 'Theirs@X.ORG' WHERE id = 1500");
            }
            return email.toLowerCase(Locale.ROOT);
        });
        Backfill backfill = ranToCompletion(lower, spec("name: jrace\ntable: jrace\nkey: [id]\ntransformer: t\n"));
        assertThat(sights.get()).as("the transformer saw row 1500 again").isEqualTo(2);
        assertThat(db.one("SELECT email_lower FROM jrace WHERE id = 1500")).isEqualTo("theirs@x.org");
        assertThat(db.count("SELECT count(*) FROM jrace WHERE email_lower IS DISTINCT FROM lower(email)"))
                .isZero();

        RunResult rolledBack = backfill.rollback("jrace", RunOptions.defaults(), false);
        assertThat(rolledBack.outcome()).as(rolledBack.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        db.exec("UPDATE jrace SET email = 'User1500@X.ORG' WHERE id = 1500");
        assertThat(db.checksum("jrace", "id")).isEqualTo(before);
    }

    @Test
    void aRowAnotherSessionIsChangingWhenAJavaChunkWritesItIsWrittenFromWhatThatSessionCommits() throws Exception {
        // Between the chunk's read and its write another session updates row 1500 and holds its transaction open; the
        // chunk's write waits on the row, and the session commits only then. PostgreSQL re-checks the write's
        // conditions on the row's new version (another place, another xmin): not written there, it is read again
        // locked and written from what the session committed.
        db.exec(
                "CREATE TABLE jopen (id bigint PRIMARY KEY, email text NOT NULL, email_lower text)",
                "INSERT INTO jopen SELECT g, 'User' || g || '@X.ORG', 'old' || g FROM generate_series(1, 3000) g",
                "ANALYZE jopen");
        String before = db.checksum("jopen", "id");
        try (Connection other = ds.getConnection()) {
            other.setAutoCommit(false);
            AtomicReference<CompletableFuture<Void>> committed = new AtomicReference<>();
            Transformer lower = transformer("email", "email_lower", email -> {
                if (email.equals("User1500@X.ORG") && committed.get() == null) {
                    try (Statement st = other.createStatement()) {
                        st.execute("UPDATE jopen SET email = 'Theirs@X.ORG' WHERE id = 1500");
                    } catch (java.sql.SQLException e) {
                        throw new IllegalStateException(e);
                    }
                    committed.set(CompletableFuture.runAsync(() -> {
                        Eventually.eventually(
                                Duration.ofSeconds(30),
                                "the chunk's write waiting for row 1500",
                                () -> db.count("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                                + " AND datname = current_database() AND query LIKE '%UPDATE%jopen%'")
                                        > 0);
                        try {
                            other.commit();
                        } catch (java.sql.SQLException e) {
                            throw new IllegalStateException(e);
                        }
                    }));
                }
                return email.toLowerCase(Locale.ROOT);
            });
            Backfill backfill = ranToCompletion(
                    lower, spec("name: jopen\ntable: jopen\nkey: [id]\ntransformer: t\ntimeouts: { lock: 30s }\n"));
            committed.get().get(30, TimeUnit.SECONDS);
            assertThat(db.one("SELECT email_lower FROM jopen WHERE id = 1500")).isEqualTo("theirs@x.org");
            assertThat(db.count("SELECT count(*) FROM jopen WHERE email_lower IS DISTINCT FROM lower(email)"))
                    .isZero();

            RunResult rolledBack = backfill.rollback("jopen", RunOptions.defaults(), false);
            assertThat(rolledBack.outcome()).as(rolledBack.message()).isEqualTo(RunResult.Outcome.COMPLETED);
            assertThat(db.one("SELECT email_lower FROM jopen WHERE id = 1500")).isEqualTo("old1500");
            db.exec("UPDATE jopen SET email = 'User1500@X.ORG' WHERE id = 1500");
            assertThat(db.checksum("jopen", "id")).isEqualTo(before);
        }
    }

    @Test
    void rowsMovedByVacuumFullBetweenAJavaChunksReadAheadAndItsWriteKeepTheirOwnValues() throws Exception {
        // Loaded in one transaction (one xmin for every row), then the first 500 rows deleted: VACUUM FULL moves every
        // later row 500 places back (the job writes no row before the chunk: its where). It is started, from the
        // transformer, while a chunk of 700 rows is read ahead, and runs between that read and the chunk's write: each
        // place read now holds the row 500 keys on, with the
        // same xmin and, for half the chunk, inside its range. Found by place and version alone, those rows would
        // take the transform of another row's email.
        db.exec(
                "CREATE TABLE jmove (id bigint PRIMARY KEY, email text NOT NULL, email_lower text)",
                "INSERT INTO jmove SELECT g, 'User' || g || '@X.ORG', NULL FROM generate_series(1, 6000) g",
                "DELETE FROM jmove WHERE id <= 500");
        String before = db.checksum("jmove", "id");
        AtomicReference<CompletableFuture<Void>> vacuum = new AtomicReference<>();
        Transformer lower = transformer("email", "email_lower", email -> {
            if (email.equals("User2800@X.ORG") && vacuum.get() == null) {
                vacuum.set(CompletableFuture.runAsync(() -> db.exec("VACUUM FULL jmove")));
                // Queued behind the read's own lock: it runs as soon as the read and the chunk before end.
                Eventually.eventually(
                        Duration.ofSeconds(30),
                        "VACUUM FULL waiting for its lock",
                        () -> db.count("SELECT count(*) FROM pg_locks WHERE relation = 'jmove'::regclass"
                                        + " AND mode = 'AccessExclusiveLock' AND NOT granted")
                                > 0);
            }
            return email.toLowerCase(Locale.ROOT);
        });
        Backfill backfill = ranToCompletion(
                lower, spec("name: jmove\ntable: jmove\nkey: [id]\ntransformer: t\nwhere: id > 2600\n"));
        vacuum.get().get(30, TimeUnit.SECONDS);
        assertThat(db.count("SELECT count(*) FROM jmove WHERE id > 2600 AND email_lower IS DISTINCT FROM lower(email)"))
                .as("rows given another row's value")
                .isZero();
        assertThat(db.count("SELECT count(*) FROM jmove WHERE email_lower IS NOT NULL"))
                .isEqualTo(3400);
        RunResult rolledBack = backfill.rollback("jmove", RunOptions.defaults(), false);
        assertThat(rolledBack.outcome()).as(rolledBack.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.checksum("jmove", "id")).isEqualTo(before);
    }

    /** A backfill that knows {@code transformer} as {@code t}, having run {@code spec} to completion. */
    private Backfill ranToCompletion(Transformer transformer, JobSpec spec) throws Exception {
        Backfill backfill = Backfill.builder(ds)
                .transformers(name -> name.equals("t") ? transformer : null)
                .build();
        RunResult run = backfill.run(spec, RunOptions.defaults());
        assertThat(run.outcome()).as(run.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        return backfill;
    }

    /** A transformer of one text column into another. */
    private static Transformer transformer(String read, String write, UnaryOperator<String> f) {
        return new Transformer() {
            @Override
            public List<String> reads() {
                return List.of(read);
            }

            @Override
            public List<String> writes() {
                return List.of(write);
            }

            @Override
            public Map<String, Object> transform(Row row) {
                String v = row.text(read);
                return v == null ? null : Map.of(write, f.apply(v));
            }
        };
    }
}
