package dev.sluice.jobs.bench;

import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.sluice.jobs.demo.EmbeddedServer;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * The bench's stage: an embedded PostgreSQL with stated settings, the base table, a fresh all-visible copy of it for
 * each contender, and the check of a contender's result against the limit's.
 */
final class Harness {

    // Server settings stated in the output: enough memory that the table's working set is cached, fsync off so
    // the disk of a shared machine does not dominate; the same for every contender. WAL segments are kept for reuse
    // and not zero-filled when new: otherwise the first round pays for creating gigabytes of WAL files that later
    // rounds recycle (measured: the first round's PL/pgSQL loop 30% slower than the others'). max_wal_size is far
    // above one contender's WAL (about 1.5 GB), so that no checkpoint starts in the middle of a run: checkpoints
    // happen between contenders, where the bench asks for them.
    static final String[][] SETTINGS = {
        {"shared_buffers", "512MB"},
        {"max_wal_size", "16GB"},
        {"min_wal_size", "4GB"},
        {"wal_init_zero", "off"},
        {"checkpoint_timeout", "30min"},
        {"synchronous_commit", "off"},
        {"fsync", "off"},
        {"full_page_writes", "off"},
        {"autovacuum", "off"}
    };

    private final Connection c;
    private KeyKind key = KeyKind.BIGINT;

    Harness(Connection c) {
        this.c = c;
    }

    /** The server, with the bench's settings: the build's version, or the one {@code binaries} resolves (non-null). */
    static EmbeddedPostgres start(io.zonky.test.db.postgres.embedded.PgBinaryResolver binaries) throws IOException {
        // Stopped by the bench (BenchServer), also when it is interrupted: zonky's own hook could not kill a server
        // that outlives its stop.
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder().setRegisterShutdownHook(false);
        if (binaries != null) {
            builder.setPgBinaryResolver(binaries);
        }
        for (String[] s : SETTINGS) {
            builder.setServerConfig(s[0], s[1]);
        }
        return EmbeddedServer.start(builder);
    }

    /** Work on the bench's own session, timed by its caller. */
    @FunctionalInterface
    interface Work<T> {
        T run() throws SQLException;
    }

    /**
     * Runs a contender on the bench's own session as the JVM contenders run on theirs: with the server's (or the
     * user's) own {@code synchronous_commit}, not the session's (on, for its copies' VACUUM); and a loop of batches with
     * the planner settings of Sluice's chunks (no sequential scan; no hash or merge join, for the client's batch joins
     * its last key), so that the loops and Sluice differ in how they send their batches, not in where they read. Not
     * Sluice's custom plans for a composite key: the loops' statements compare rows, not scalar bounds, and forced
     * custom plans made the client's batch on the composite key 1.5x slower (measured, 18.6). The session is set back
     * afterwards, whatever happened; an error of the work is the one thrown.
     */
    <T> T asContender(boolean loop, Work<T> work) throws SQLException {
        T result;
        try {
            exec(c, "RESET synchronous_commit");
            if (loop) {
                exec(c, "SET enable_seqscan = off", "SET enable_hashjoin = off", "SET enable_mergejoin = off");
            }
            result = work.run();
        } catch (SQLException | RuntimeException e) {
            restoreSession(e);
            throw e;
        }
        restoreSession(null);
        return result;
    }

    /** The bench's own settings back, each on its own; what fails is added to {@code failed}, or thrown if none. */
    private void restoreSession(Exception failed) throws SQLException {
        SQLException first = null;
        for (String restore : List.of(
                "SET synchronous_commit = on",
                "RESET enable_seqscan",
                "RESET enable_hashjoin",
                "RESET enable_mergejoin")) {
            try {
                exec(c, restore);
            } catch (SQLException e) {
                if (failed != null) {
                    failed.addSuppressed(e);
                } else if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** The key the base table was created with. */
    KeyKind key() {
        return key;
    }

    Connection connection() {
        return c;
    }

    /**
     * The base table of {@code rows} rows every contender copies, keyed by {@code key}.
     *
     * @return the key as created, for the output: its columns, and the collation of a text column
     */
    String createBase(long rows, KeyKind key) throws SQLException {
        this.key = key;
        // The bench's own session commits synchronously: with synchronous_commit=off a VACUUM right after the
        // copy's INSERT cannot set hint bits (the commit is not flushed yet) and leaves the visibility map
        // empty, so every contender would start on a table no vacuumed production table looks like.
        exec(c, "SET synchronous_commit = on");
        // An ICU collation where the server was built with ICU (a text key then compares as most production
        // databases' do), else the database's own.
        String collation = one(c, "SELECT count(*) FROM pg_collation WHERE collname = 'und-x-icu'")
                        .equals("1")
                ? "pg_catalog.\"und-x-icu\""
                : "pg_catalog.\"default\"";
        exec(
                c,
                "DROP TABLE IF EXISTS bench_base", // a leftover of an interrupted run (on a user's server: marked)
                "CREATE TABLE bench_base (" + key.columns(collation) + ", email text NOT NULL, amount_cents bigint"
                        + " NOT NULL, email_lower text, amount_dollars numeric(12, 2)); " + mark("bench_base"),
                "INSERT INTO bench_base (" + String.join(", ", key.key()) + ", email, amount_cents) SELECT "
                        + key.rowValues() + ", 'Customer' || g || '@Example.COM', (g::bigint * 7919) % 10000000 FROM"
                        + " generate_series(1, " + rows + ") g",
                "VACUUM ANALYZE bench_base");
        return key == KeyKind.TEXT
                ? key.described() + ", tenant " + collation.replace("pg_catalog.", "")
                : key.described();
    }

    /** A fresh copy of the base table, vacuumed and analyzed, after a checkpoint: every contender starts alike. */
    String copy(String name) throws SQLException {
        return copy(name, "bench_base");
    }

    String copy(String name, String from) throws SQLException {
        String t = "bench_" + name;
        exec(
                c,
                "DROP TABLE IF EXISTS " + t,
                "CREATE TABLE " + t + " (LIKE bench_base INCLUDING ALL); " + mark(t),
                "INSERT INTO " + t + " SELECT * FROM " + from,
                "VACUUM ANALYZE " + t);
        checkpoint();
        // On a server of the user's own, another session's snapshot (an autovacuum ANALYZE of the table just copied,
        // a long transaction, a replication slot) can keep VACUUM from marking the new rows visible to all: it is
        // run again while that snapshot is likely to pass, then the holder is named.
        for (int attempt = 1; !allVisible(t) && attempt <= VACUUM_ATTEMPTS; attempt++) {
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            exec(c, "VACUUM " + t);
        }
        if (!allVisible(t)) {
            throw new IllegalStateException("VACUUM left " + t + " not all-visible, so the contenders would not start"
                    + " alike: " + horizon());
        }
        flushOperatingSystemCache();
        return t;
    }

    private static final int VACUUM_ATTEMPTS = 20;

    /**
     * What marks a table as the benchmark's own (its comment, set in the transaction that creates it): on a user's
     * server, only tables so marked are taken for leftovers of an earlier run, and dropped at the end.
     */
    private static final String MARK = "sluice bench";

    /**
     * The condition that the {@code pg_class} row {@code c} is one of the benchmark's own tables: where it makes them
     * (the first schema of the search path), named {@code bench_*}, and marked; the tables it may take over and drop.
     */
    static String ours(String c) {
        return c + ".relkind = 'r' AND " + c + ".relnamespace = (SELECT oid FROM pg_namespace WHERE nspname ="
                + " current_schema()) AND " + c + ".relname LIKE 'bench\\_%' AND obj_description(" + c + ".oid,"
                + " 'pg_class') IS NOT DISTINCT FROM '" + MARK + "'";
    }

    private static String mark(String table) {
        return "COMMENT ON TABLE " + table + " IS '" + MARK + "'";
    }

    /**
     * A checkpoint before each contender, so that none pays for the writes of the one before. On a user's server the
     * user may not (not a superuser, and before 15 nobody else may; from 15 a member of pg_checkpoint): said once, and
     * the contenders run without.
     */
    private void checkpoint() throws SQLException {
        if (!checkpoints) {
            return;
        }
        try {
            exec(c, "CHECKPOINT");
        } catch (SQLException e) {
            if (!"42501".equals(e.getSQLState())) {
                throw e;
            }
            checkpoints = false;
            System.out.println("sluice bench: no CHECKPOINT before each contender: this user may not (a superuser may,"
                    + " and from PostgreSQL 15 a member of pg_checkpoint); a contender's time may include a checkpoint"
                    + " of the writes before it");
        }
    }

    private boolean checkpoints = true;

    private boolean allVisible(String t) throws SQLException {
        return one(c, "SELECT relallvisible >= relpages FROM pg_class WHERE oid = '" + t + "'::regclass")
                .equals("t");
    }

    /** What holds back the oldest snapshot the server keeps rows for, as far as this user may see. */
    private String horizon() throws SQLException {
        String session = one(
                c,
                "SELECT coalesce(max(format('session pid %s (%s, %s since %s) holds a snapshot', pid,"
                        + " coalesce(nullif(application_name, ''), 'no application name'), state,"
                        + " date_trunc('second', xact_start))), '') FROM (SELECT * FROM pg_stat_activity"
                        + " WHERE backend_xmin IS NOT NULL AND pid <> pg_backend_pid()"
                        + " ORDER BY age(backend_xmin) DESC LIMIT 1) a");
        String slot = one(
                c,
                "SELECT coalesce(max(format('replication slot %s holds back xmin', slot_name)), '')"
                        + " FROM pg_replication_slots WHERE xmin IS NOT NULL OR catalog_xmin IS NOT NULL");
        String prepared = one(
                c,
                "SELECT CASE WHEN count(*) > 0 THEN count(*) || ' prepared transaction(s)' ELSE ''"
                        + " END FROM pg_prepared_xacts");
        String found = String.join(
                "; ",
                java.util.stream.Stream.of(session, slot, prepared)
                        .filter(x -> !x.isEmpty())
                        .toList());
        return found.isEmpty()
                ? "no session, slot or prepared transaction visible to this user holds a snapshot; try again"
                : found + "; end it, or run the benchmark on a quiet server";
    }

    /**
     * With fsync off, the gigabytes an earlier contender wrote sit dirty in the kernel's page cache and are written
     * back whenever the kernel chooses, in the middle of the next contender's run; {@code sync} writes them now.
     */
    private static void flushOperatingSystemCache() {
        try {
            new ProcessBuilder("sync").inheritIO().start().waitFor(5, TimeUnit.MINUTES);
        } catch (IOException e) {
            // no sync command (not a Unix): nothing to flush by hand
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Equal to the limit's result, row for row. */
    String check(String t) throws SQLException {
        if (t.equals("bench_limit")) {
            return "yes";
        }
        long wrong = Long.parseLong(one(
                c,
                "SELECT count(*) FROM bench_limit l FULL JOIN " + t + " x USING (" + String.join(", ", key.key())
                        + ") WHERE l.email_lower IS DISTINCT FROM x.email_lower OR l.amount_dollars IS DISTINCT FROM"
                        + " x.amount_dollars OR l.email IS NULL OR x.email IS NULL"));
        return wrong == 0 ? "yes" : "NO: " + wrong + " rows differ";
    }

    static String settings() {
        StringBuilder sb = new StringBuilder();
        for (String[] s : SETTINGS) {
            sb.append(sb.isEmpty() ? "" : ", ").append(s[0]).append('=').append(s[1]);
        }
        return sb.toString();
    }

    static void exec(Connection c, String... statements) throws SQLException {
        try (Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    static String one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
