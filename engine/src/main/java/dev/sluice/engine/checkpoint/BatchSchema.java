package dev.sluice.engine.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import javax.sql.DataSource;

import dev.sluice.engine.chunk.Transaction;
import dev.sluice.engine.contract.Ledger;
import dev.sluice.engine.control.Audit;
import dev.sluice.engine.control.RemoteRuns;
import dev.sluice.engine.keyset.Sql;
import dev.sluice.engine.preflight.ServerVersion;

/**
 * Creates Spring Batch's JobRepository tables in the target database, in their own schema ({@code sluice} by
 * default), on first use. Several runners may start at once against a new database: an advisory lock held around
 * the creating transaction makes exactly one of them create the tables, and DDL in PostgreSQL is transactional,
 * so a runner killed half-way leaves nothing behind.
 */
public final class BatchSchema {

    private static final String SCRIPT = "/org/springframework/batch/core/schema-postgresql.sql";
    // An arbitrary constant that other applications are unlikely to use as an advisory lock key.
    private static final long CREATE_LOCK = 0x51_1ce_0001L;

    // The table added last: a repository created by an older version gets the newer tables on first use.
    private static final String NEWEST_TABLE = "audit";

    private BatchSchema() {}

    /** Creates the schema and tables unless they exist. */
    public static void ensure(DataSource dataSource, String schema) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            // Every verb that works on a job comes here first: none works on a server Sluice cannot work on, not even
            // where a repository is there (an older Sluice's): the version is the driver's, read when it connected.
            ServerVersion.require(c);
            if (exists(c, schema) && exists(c, schema, NEWEST_TABLE)) {
                return;
            }
            // A session's lock, taken outside the creating transaction: a session that waited for another's creation
            // then looks again in a new transaction, which reads the catalog anew. Inside one transaction an advisory
            // lock does not refresh what the session cached of the catalog, and it would still find no tables.
            try (Statement st = c.createStatement()) {
                st.execute("SELECT pg_advisory_lock(" + CREATE_LOCK + ")");
                if (!c.getAutoCommit()) {
                    c.commit(); // the wait ends a transaction of its own
                }
            }
            try {
                Transaction.run(c, tx -> {
                    create(tx, schema);
                    return null;
                });
            } finally {
                try (Statement st = c.createStatement()) {
                    st.execute("SELECT pg_advisory_unlock(" + CREATE_LOCK + ")");
                }
            }
        }
    }

    private static void create(Connection c, String schema) throws SQLException {
        try (Statement st = c.createStatement()) {
            if (!exists(c, schema)) {
                st.execute("CREATE SCHEMA IF NOT EXISTS " + Sql.quote(schema));
                st.execute("SET LOCAL search_path = " + Sql.quote(schema));
                for (String ddl : script().split(";", -1)) {
                    if (!ddl.isBlank()) {
                        st.execute(ddl);
                    }
                }
            }
            // Operators' requests to running jobs (pause, cancel, tune), taken by the runner within a chunk.
            st.execute("CREATE TABLE IF NOT EXISTS " + Sql.quote(schema) + ".job_control ("
                    + "job text NOT NULL, command text NOT NULL CHECK (command IN ('pause', 'cancel', 'tune')),"
                    + " rows_per_second bigint, chunk_target_ms bigint,"
                    + " requested_at timestamptz NOT NULL DEFAULT now(), requested_by text,"
                    + " PRIMARY KEY (job, command))");
            // Sync triggers installed by jobs, so that status, finish and other jobs' preflight find them.
            st.execute("CREATE TABLE IF NOT EXISTS " + Sql.quote(schema) + ".sync_triggers ("
                    + "job text PRIMARY KEY, kind text NOT NULL, in_source boolean NOT NULL, table_name text NOT NULL,"
                    + " written text NOT NULL, targets text[] NOT NULL, triggers text[] NOT NULL, log_table text,"
                    + " drop_sql text[] NOT NULL, digest text NOT NULL,"
                    + " installed_at timestamptz NOT NULL DEFAULT now(), dropped_at timestamptz)");
            // The states a job reaches outside its runs: FINISHED (its sync trigger and journal dropped).
            st.execute("CREATE TABLE IF NOT EXISTS " + Sql.quote(schema) + ".job_lifecycle ("
                    + "job text PRIMARY KEY, state text NOT NULL CHECK (state IN ('FINISHED')),"
                    + " at timestamptz NOT NULL DEFAULT now(), by_whom text)");
            // The undo journal: one row per chunk, written with it (chunk.Journal), read back newest first by
            // rollback (undo.Restorer). keys and before are two-dimensional: [column][row].
            st.execute("CREATE TABLE IF NOT EXISTS " + Sql.quote(schema) + ".undo_journal ("
                    + "job text NOT NULL, seq bigint GENERATED ALWAYS AS IDENTITY, keys text[] NOT NULL,"
                    + " before text[] NOT NULL, existed boolean[] NOT NULL, after_hash bigint[] NOT NULL, rows integer NOT NULL,"
                    + " time_zone text NOT NULL, interval_style text NOT NULL, written_at timestamptz NOT NULL DEFAULT now(),"
                    + " PRIMARY KEY (job, seq))");
            // Keys and hashes barely compress: stored out of line without trying, which costs a chunk far less time.
            // Pre-images (often text) keep PostgreSQL's compression, which keeps the journal's WAL down.
            st.execute("ALTER TABLE " + Sql.quote(schema) + ".undo_journal ALTER keys SET STORAGE EXTERNAL,"
                    + " ALTER after_hash SET STORAGE EXTERNAL");
            // Entries the sync trigger wrote (a row the application wrote, computed by the trigger), not a chunk.
            st.execute("ALTER TABLE " + Sql.quote(schema) + ".undo_journal ADD COLUMN IF NOT EXISTS by_trigger boolean"
                    + " NOT NULL DEFAULT false");
            // An operator's tune, in force for all the job's later work until the operator tunes again
            // (control.Tuning).
            st.execute("CREATE TABLE IF NOT EXISTS " + Sql.quote(schema) + ".job_tuning ("
                    + "job text PRIMARY KEY, rows_per_second bigint NOT NULL, spec_rows_per_second bigint NOT NULL,"
                    + " at timestamptz NOT NULL DEFAULT now(), by_whom text)");
            // finish --purge: the journal and the set-aside columns are gone, and with them the way back.
            st.execute("ALTER TABLE " + Sql.quote(schema) + ".job_lifecycle ADD COLUMN IF NOT EXISTS purged_at"
                    + " timestamptz");
            // The contract steps finish ran (and rollback reversed), one row per step (contract.Ledger).
            st.execute(Ledger.ddl(schema));
            spreadIds(st, schema);
            // Remote partitions: the runner's orders, the workers' leases, and the channel the partitions are sent on.
            for (String ddl : RemoteRuns.ddl(schema)) {
                st.execute(ddl);
            }
            // Who changed what, when, from where (control.Audit).
            for (String ddl : Audit.ddl(schema)) {
                st.execute(ddl);
            }
        }
    }

    /**
     * Starts the repository's ids at a random point of a wide range, once (a new repository, or one created by an
     * older version whose ids are still small). Spring Batch keeps the contexts of running steps and jobs in maps of the
     * JVM keyed by their executions' ids: two databases' executions of the same id run by one process at once (a
     * fleet's targets, in waves) would share a context, and each would write the other's checkpoint. Spread ids make
     * that as unlikely as two random 40-bit numbers meeting.
     */
    private static void spreadIds(Statement st, String schema) throws SQLException {
        for (String seq :
                new String[] {"batch_job_instance_seq", "batch_job_execution_seq", "batch_step_execution_seq"}) {
            String name = Sql.quote(schema) + "." + seq;
            st.execute("SELECT setval('" + name + "', (SELECT CASE WHEN last_value < " + SPREAD_BELOW
                    + " THEN last_value + 1 + (random() * " + SPREAD + ")::bigint ELSE last_value END FROM " + name
                    + "))");
        }
    }

    /**
     * Keeps the execution ids of several databases' repositories apart (a fleet's targets, run by one process): where
     * two are within 2^32 of each other (repositories cloned from one template or backup), the later is moved on by a
     * random amount of up to 2^40.
     */
    public static void keepApart(List<DataSource> databases, String schema) throws SQLException {
        for (String seq : new String[] {"batch_job_execution_seq", "batch_step_execution_seq"}) {
            List<Long> taken = new ArrayList<>();
            for (DataSource ds : databases) {
                // A repository made later starts at a random point of its own; one that does not answer fails its
                // own part of the rollout. Neither is written to here.
                try (Connection c = ds.getConnection();
                        Statement st = c.createStatement()) {
                    if (!exists(c, schema)) {
                        continue;
                    }
                    String name = Sql.quote(schema) + "." + seq;
                    long value;
                    try (ResultSet rs = st.executeQuery("SELECT last_value FROM " + name)) {
                        rs.next();
                        value = rs.getLong(1);
                    }
                    final long v = value;
                    if (taken.stream().anyMatch(t -> Math.abs(t - v) < SPREAD_BELOW)) {
                        value = value
                                + SPREAD_BELOW
                                + ThreadLocalRandom.current().nextLong(SPREAD);
                        st.execute("SELECT setval('" + name + "', " + value + ")");
                    }
                    taken.add(value);
                } catch (SQLException e) {
                    if (!dev.sluice.engine.control.Reconnection.isLost(e)) {
                        throw e;
                    }
                }
            }
        }
    }

    // Ids below this were not spread yet; spread ones start within this range above it.
    private static final long SPREAD_BELOW = 1L << 32;
    private static final long SPREAD = 1L << 40;

    private static boolean exists(Connection c, String schema) throws SQLException {
        return exists(c, schema, "batch_step_execution_context");
    }

    private static boolean exists(Connection c, String schema, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(? || '.' || ?)")) {
            ps.setString(1, Sql.quote(schema));
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getString(1) != null;
            }
        }
    }

    private static String script() {
        try (InputStream in = BatchSchema.class.getResourceAsStream(SCRIPT)) {
            if (in == null) {
                throw new IllegalStateException("Spring Batch's " + SCRIPT + " is not on the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).replaceAll("(?m)^--.*$", "");
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + SCRIPT, e);
        }
    }
}
