package dev.sluice.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.spi.Transformer;
import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.LowerEmail;
import dev.sluice.engine.testing.PlanCapture;
import dev.sluice.engine.testing.PlanCapture.PlanMode;
import dev.sluice.engine.testing.Postgres;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every statement a chunk runs reads only its chunk's rows, whatever the planner estimates: in every mode (in place,
 * copy, Java), with and without the undo journal and the sync trigger, in the backfill, its key log's drain, the
 * validation and the rollback, planned with the chunk's values (custom plans) and for any values (generic plans, as
 * a prepared statement gets after a few runs). The server says what it did: {@code auto_explain} reports each
 * executed statement's plan with the rows each scan actually read, and a scan of the table that reads much more than
 * a chunk (a sequential scan, a hash join over the table, a walk of a whole index) fails the test.
 *
 * <p>The table invites such plans: a composite key whose first column holds few values (the planner estimates a
 * row-value range from its first column alone: up to a quarter of the table for a chunk of a thousand rows), a
 * partial index over the rows still to do, and a copy target already half full. The statements written for
 * PostgreSQL 18 ({@code RETURNING OLD}) run on 18; those for 14-17 run when the tests run on an older server (CI runs
 * the engine's tests on 14 too).
 */
class ChunkPlansTest {

    private static final int ROWS = 200_000;
    private static final int CHUNK = 1_000;
    private static final int CHUNKS = 12;
    // A scan bounded by its chunk reads about a chunk (the locked path of a Java chunk reads it twice); one that is
    // not reads the table: 200 chunks.
    private static final long MOST_ROWS_A_SCAN_READS = 4L * CHUNK;
    // A chunk's thousand index entries lie on a few leaf pages (a few hundred entries each); an index scan that does
    // not stop at the chunk's end walks on through the rest of its group: hundreds of pages, on this table.
    private static final long MOST_INDEX_PAGES_A_SCAN_READS = 40;
    private static final Set<String> TABLES =
            Set.of("t", "t_copy", "tb", "tb_copy", "undo_journal", "sync_log_plans-java");
    private static final AtomicInteger DATABASES = new AtomicInteger();

    private static HikariDataSource admin;
    private static String template;

    @BeforeAll
    static void template() {
        template = "plans_template_" + ProcessHandle.current().pid();
        admin = Postgres.dataSource(Postgres.jdbcUrl("postgres"));
        new Db(admin).exec("CREATE DATABASE " + template);
        try (HikariDataSource ds = Postgres.dataSource(Postgres.jdbcUrl(template))) {
            Db db = new Db(ds);
            String collation = icu(db);
            db.exec(
                    "CREATE TABLE t (tenant text COLLATE " + collation
                            + " NOT NULL, id bigint NOT NULL, email text NOT NULL,"
                            + " email_lower text, n int NOT NULL DEFAULT 0, PRIMARY KEY (tenant, id))",
                    // The chunks reach the last leading value, 'beta', whose range the planner estimates at no row
                    // at all (a row comparison is estimated from its first column: tenant > 'beta' holds for none),
                    // and before it 'acme', of a few chunks.
                    "INSERT INTO t (tenant, id, email) SELECT CASE WHEN g % 50 = 0 THEN 'acme' ELSE 'beta' END, g,"
                            + " 'User' || g || '@Example.COM' FROM generate_series(1, " + ROWS + ") g",
                    // Small tenants first: the first chunks span several (their bounds share no leading value).
                    "INSERT INTO t (tenant, id, email) SELECT 'a0' || (g % 10), 1000000 + g, 'Small' || g || '@Example.COM'"
                            + " FROM generate_series(1, 1500) g",
                    // A single-column key as well, on a table of its own: its statements are planned generic after a
                    // few
                    // runs. (An index on a trailing key column beside the composite key would be the planner's to
                    // choose for a chunk's scalar bounds before PostgreSQL 18: see the keyset README.)
                    "CREATE TABLE tb (id bigint PRIMARY KEY, email text NOT NULL, email_lower text, n int NOT NULL DEFAULT 0)",
                    "INSERT INTO tb (id, email) SELECT id, email FROM t",
                    "CREATE INDEX tb_todo ON tb (id) WHERE email_lower IS NULL",
                    "CREATE TABLE tb_copy (id bigint PRIMARY KEY, email_lower text)",
                    "INSERT INTO tb_copy SELECT id, 'old' FROM tb WHERE id % 2 = 0",
                    "CREATE INDEX t_email_lower ON t (email_lower)",
                    "CREATE INDEX t_todo ON t (id) WHERE email_lower IS NULL",
                    "CREATE TABLE t_copy (tenant text COLLATE " + collation
                            + " NOT NULL, id bigint NOT NULL, email_lower text," + " PRIMARY KEY (tenant, id))",
                    "INSERT INTO t_copy SELECT tenant, id, 'old' FROM t WHERE id % 2 = 0",
                    "VACUUM ANALYZE t",
                    "VACUUM ANALYZE t_copy",
                    "VACUUM ANALYZE tb",
                    "VACUUM ANALYZE tb_copy");
        }
        // No session of the template may stay: CREATE DATABASE ... TEMPLATE needs it alone.
    }

    /** An ICU collation where the server has ICU (the case found slow), else the default one. */
    private static String icu(Db db) {
        try {
            db.exec("CREATE COLLATION und_icu (provider = icu, locale = 'und')");
            return "und_icu";
        } catch (IllegalStateException noIcu) {
            return "\"default\"";
        }
    }

    @AfterAll
    static void dropTemplate() {
        new Db(admin).exec("DROP DATABASE IF EXISTS " + template);
        admin.close();
    }

    /**
     * Every mode, journal and trigger on the composite key, custom and generic; on the single-column key (whose
     * chunks are planned generic, as a prepared statement gets after a few runs) the generic plans.
     */
    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String key : List.of("[tenant, id]", "[id]")) {
            for (PlanMode mode : key.equals("[id]") ? List.of(PlanMode.GENERIC) : List.of(PlanMode.values())) {
                for (String kind : List.of("in-place", "copy", "java")) {
                    for (boolean undo : List.of(true, false)) {
                        for (boolean sync : List.of(true, false)) {
                            out.add(Arguments.of(key, kind, undo, sync, mode));
                        }
                    }
                }
            }
        }
        return out;
    }

    @ParameterizedTest(name = "key {0}, {1}, undo {2}, sync {3}, {4} plans")
    @MethodSource("cases")
    void everyChunkStatementReadsOnlyItsChunk(String key, String kind, boolean undo, boolean sync, PlanMode mode)
            throws Exception {
        String database = "plans_" + ProcessHandle.current().pid() + "_" + DATABASES.incrementAndGet();
        new Db(admin).exec("CREATE DATABASE " + database + " TEMPLATE " + template);
        String url = Postgres.jdbcUrl(database);
        try (PlanCapture capture = PlanCapture.on(admin, url, mode);
                HikariDataSource plain = Postgres.dataSource(url);
                Backfill backfill = Backfill.builder(capture)
                        .transformers(name -> name.equals("lower") ? LOWER : null)
                        .build()) {
            String spec = spec(key, kind, undo, sync);
            Db app = new Db(plain);
            RunResult run = backfill.run(SpecParser.parse(spec), options(CHUNKS, chunk -> {
                if (sync && chunk % 3 == 0) {
                    // The application writes behind the checkpoint: a Java job's key log has keys to drain.
                    app.exec(
                            key.equals("[id]")
                                    ? "UPDATE tb SET email = email || 'x' WHERE id BETWEEN " + chunk + " AND "
                                            + (chunk + 40)
                                    : "UPDATE t SET email = email || 'x' WHERE tenant = 'acme' AND id BETWEEN "
                                            + (50 * chunk) + " AND " + (50 * chunk + 2000));
                }
            }));
            assertThat(run.outcome()).as(run.message()).isEqualTo(RunResult.Outcome.STOPPED);
            if (undo) {
                RunResult rolledBack = backfill.rollback("plans-" + kind, options(CHUNKS * 3, c -> {}), true);
                assertThat(rolledBack.outcome()).as(rolledBack.message()).isEqualTo(RunResult.Outcome.COMPLETED);
            }
            backfill.validate(SpecParser.parse(spec), options(CHUNKS / 2, c -> {}));
            List<PlanCapture.Plan> plans = capture.drain();
            if (System.getProperty("plans.debug") != null) {
                plans.stream()
                        .filter(p -> p.query().startsWith("SELECT"))
                        .limit(2)
                        .forEach(p -> System.out.println("PLAN " + p.root().toPrettyString()));
            }
            List<PlanCapture.Scan> scans = PlanCapture.scans(plans, TABLES);
            assertThat(scans).as("scans of the job's tables").isNotEmpty();
            List<String> unbounded = scans.stream()
                    // The key log is Sluice's queue, read from its head: bounded by the log, not the table.
                    .filter(s -> s.rowsRead() > MOST_ROWS_A_SCAN_READS
                            || (s.indexPagesPerLoop() > MOST_INDEX_PAGES_A_SCAN_READS
                                    && !s.relation().startsWith("sync_log_")))
                    .map(s -> s.nodeType() + " on " + s.relation() + (s.index() == null ? "" : " using " + s.index())
                            + " read " + s.rowsRead() + " rows, " + s.indexPagesPerLoop() + " index pages a loop, in: "
                            + s.query().replaceAll("\\s+", " "))
                    .distinct()
                    .toList();
            assertThat(unbounded).as("scans not bounded by their chunk").isEmpty();
            assertThat(PlanCapture.pairwiseJoins(plans, MOST_ROWS_A_SCAN_READS))
                    .as("joins comparing every pair of a chunk's rows")
                    .isEmpty();
        } finally {
            new Db(admin).exec("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
        }
    }

    private static final Transformer LOWER = new LowerEmail();

    private static String spec(String key, String kind, boolean undo, boolean sync) {
        boolean single = key.equals("[id]");
        String mode = switch (kind) {
            case "in-place" ->
                "set: { email_lower: lower(email) }\nvalidate: [ { target: email_lower, source: lower(email) } ]";
            case "copy" ->
                single
                        ? "into: tb_copy\ncolumns: { id: id, email_lower: lower(email) }"
                        : "into: t_copy\ncolumns: { tenant: tenant, id: id, email_lower: lower(email) }";
            default -> "transformer: lower\nvalidate: [ { target: email_lower, source: lower(email) } ]";
        };
        return "name: plans-" + kind + "\ntable: " + (single ? "tb" : "t") + "\nkey: " + key + "\n" + mode + "\nundo: "
                + undo + "\nsync: "
                + (sync ? "trigger" : "none") + "\nchunk: { rows: " + CHUNK + ", min-rows: " + CHUNK + ", max-rows: "
                + CHUNK + " }\nvalidate-after-run: false\n";
    }

    /** Options that stop the work after {@code chunks} chunks, telling {@code each} of every chunk first. */
    private static RunOptions options(int chunks, IntConsumer each) {
        StopSignal stop = new StopSignal();
        AtomicInteger seen = new AtomicInteger();
        return RunOptions.defaults().withStop(stop).withObserver(report -> {
            int n = seen.incrementAndGet();
            each.accept(n);
            if (n >= chunks) {
                stop.request("enough chunks to see their plans");
            }
        });
    }
}
