package dev.sluice.engine.sync;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

import javax.sql.DataSource;

import dev.sluice.engine.keyset.Sql;

/**
 * Installs a job's sync trigger before its first chunk, and drops it at {@code finish}; both lock-safe
 * ({@link LockSafe}). What is installed is recorded in {@code sluice.sync_triggers} in the target database, in the
 * installing transaction when the trigger is there too, so that status, finish and the preflight of other jobs find
 * it from the job's name alone.
 */
public final class SyncInstaller {

    /** Keys were logged after the last drain: dropping the log now would lose them. Nothing was dropped. */
    public static final class KeysWaiting extends IllegalStateException {
        KeysWaiting(long keys) {
            super(keys + " rows changed by the application are waiting in the key log");
        }
    }

    /** A job's sync trigger as recorded. */
    public record Installed(
            String job,
            SyncDefinition.Kind kind,
            boolean inSource,
            String table,
            String written,
            List<String> targets,
            List<String> triggers,
            String logTable,
            List<String> dropSql,
            String digest,
            boolean dropped) {}

    private final String schema;
    private final LockSafe lockSafe;

    public SyncInstaller(String schema, Consumer<String> warn) {
        this(schema, new LockSafe(warn));
    }

    SyncInstaller(String schema, LockSafe lockSafe) {
        this.schema = schema;
        this.lockSafe = lockSafe;
    }

    /**
     * Installs the trigger unless it is installed with the same SQL, or {@code finish} dropped it.
     *
     * @param source the source database of a cross-database copy, where its trigger goes; null otherwise
     * @return whether it was installed now
     * @throws LockSafe.NotGranted when the table's lock was never free; nothing was installed
     */
    public boolean ensure(DataSource target, DataSource source, SyncDefinition def)
            throws SQLException, LockSafe.NotGranted {
        DataSource there = def.inSource() ? source : target;
        Optional<Installed> recorded;
        try (Connection c = target.getConnection()) {
            recorded = read(c, schema, def.job());
        }
        if (recorded.isPresent() && recorded.get().dropped()) {
            return false; // finished: the contract step removed it for good
        }
        if (recorded.isPresent() && recorded.get().digest().equals(def.digest())) {
            try (Connection c = there.getConnection()) {
                if (present(c, recorded.get())) {
                    return false;
                }
            }
        }
        if (recorded.isPresent()
                && (!recorded.get().table().equals(def.table())
                        || recorded.get().inSource() != def.inSource()
                        || recorded.get().kind() != def.kind())) {
            // The job moved (a spec changed under --force or --again): its old triggers would call the new function.
            Installed old = recorded.get();
            if (old.inSource() && source == null) {
                throw new IllegalStateException(
                        "job " + def.job() + " has a sync trigger in its former source database," + " on " + old.table()
                                + ": drop it there first");
            }
            lockSafe.run(old.inSource() ? source : target, old.table(), old.dropSql());
        }
        if (def.inSource()) {
            try (Connection c = source.getConnection();
                    Statement st = c.createStatement()) {
                st.execute("CREATE SCHEMA IF NOT EXISTS " + Sql.quote(schema));
            }
        }
        // Triggers of an earlier version under other names (the compute kind's now sort last): replaced in the same
        // transaction, so that no write sees both or neither.
        List<String> renamed = recorded.isPresent() && recorded.get().table().equals(def.table())
                ? recorded.get().triggers().stream()
                        .filter(t -> !def.triggers().contains(t))
                        .toList()
                : List.of();
        lockSafe.run(there, def.table(), c -> {
            try (Statement st = c.createStatement()) {
                for (String old : renamed) {
                    st.execute("DROP TRIGGER IF EXISTS " + Sql.quote(old) + " ON " + def.table());
                }
                for (String sql : def.install()) {
                    st.execute(sql);
                }
            }
            if (!def.inSource()) {
                record(c, def);
            }
        });
        if (def.inSource()) {
            // A runner that dies between the two finds the record missing next time, and installs again.
            try (Connection c = target.getConnection()) {
                record(c, def);
            }
        }
        return true;
    }

    /**
     * Drops a job's sync objects, lock-safe, and marks them dropped (finish: for good). A trigger that logs keys is
     * dropped in one transaction with its last keys' drain: the table is first held against the application's writes
     * ({@code SHARE ROW EXCLUSIVE}: reads go on), so that no key is logged after the drain and none is lost between
     * the drain and the drop; writes wait for the drain of the keys of the last moments, and no longer than the
     * lock's own timeout for the rest.
     *
     * @param lastKeys drains the key log on the connection that holds the table
     * @return what was dropped, or empty when the job never installed any
     * @throws KeysWaiting when its key log is still not empty once its triggers are gone; nothing was dropped
     */
    public Optional<Installed> drop(DataSource target, DataSource source, String job, FinalDrain lastKeys)
            throws SQLException, LockSafe.NotGranted {
        Optional<Installed> recorded = recorded(target, job);
        if (recorded.isEmpty() || recorded.get().dropped()) {
            return recorded;
        }
        dropObjects(
                target,
                source,
                recorded.get(),
                lastKeys,
                "UPDATE " + Sql.quote(schema) + ".sync_triggers SET dropped_at = now() WHERE job = ?");
        return recorded;
    }

    /**
     * The last keys' drain, run by {@link #drop} while it holds the table against the application's writes (its
     * triggers still in place, nothing more can be logged), on the connection that holds it.
     */
    @FunctionalInterface
    public interface FinalDrain {
        FinalDrain NONE = c -> {};

        void drain(Connection holdingTheTable) throws SQLException;
    }

    /**
     * Drops a job's sync objects, lock-safe, and forgets them, so that a later run installs them again (rollback:
     * the keys its log holds do not matter any more).
     *
     * @return whether there was anything to drop
     */
    public boolean remove(DataSource target, DataSource source, String job) throws SQLException, LockSafe.NotGranted {
        Optional<Installed> recorded = recorded(target, job);
        if (recorded.isEmpty() || recorded.get().dropped()) {
            return false;
        }
        dropObjects(
                target,
                source,
                recorded.get(),
                null,
                "DELETE FROM " + Sql.quote(schema) + ".sync_triggers WHERE job = ?");
        return true;
    }

    private Optional<Installed> recorded(DataSource target, String job) throws SQLException {
        try (Connection c = target.getConnection()) {
            return read(c, schema, job);
        }
    }

    /**
     * @param lastKeys    the key log's last drain (its keys are the job's work still to do), or null when the keys
     *                    waiting do not matter any more (a rollback)
     * @param bookkeeping the statement that records the drop, with the job as its one parameter
     */
    private void dropObjects(DataSource target, DataSource source, Installed i, FinalDrain lastKeys, String bookkeeping)
            throws SQLException, LockSafe.NotGranted {
        boolean keepWaitingKeys = lastKeys != null;
        if (i.inSource() && source == null) {
            throw new IllegalStateException(
                    "job " + i.job() + "'s trigger is in its source database, which this call" + " cannot reach");
        }
        lockSafe.run(i.inSource() ? source : target, i.table(), c -> {
            try (Statement st = c.createStatement()) {
                if (keepWaitingKeys && i.logTable() != null) {
                    // Writers wait from here (under the attempt's lock timeout); the triggers log nothing more.
                    st.execute("LOCK TABLE " + i.table() + " IN SHARE ROW EXCLUSIVE MODE");
                    lastKeys.drain(c);
                }
                for (String sql : i.dropSql()) {
                    if (keepWaitingKeys && i.logTable() != null && sql.startsWith("DROP TABLE")) {
                        // The triggers are gone and their table locked: every write that logged a key has committed.
                        long waiting = pending(c, i);
                        if (waiting > 0) {
                            throw new KeysWaiting(waiting);
                        }
                    }
                    st.execute(sql);
                }
            }
            if (!i.inSource()) {
                book(c, bookkeeping, i.job());
            }
        });
        if (i.inSource()) {
            try (Connection c = target.getConnection()) {
                book(c, bookkeeping, i.job());
            }
        }
    }

    private static void book(Connection c, String sql, String job) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, job);
            ps.executeUpdate();
        }
    }

    private void record(Connection c, SyncDefinition def) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + Sql.quote(schema) + ".sync_triggers (job, kind,"
                + " in_source, table_name, written, targets, triggers, log_table, drop_sql, digest)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job) DO UPDATE SET kind = excluded.kind,"
                + " in_source = excluded.in_source, table_name = excluded.table_name, written = excluded.written,"
                + " targets = excluded.targets, triggers = excluded.triggers, log_table = excluded.log_table,"
                + " drop_sql = excluded.drop_sql, digest = excluded.digest, installed_at = now(), dropped_at = NULL")) {
            ps.setString(1, def.job());
            ps.setString(2, def.kind().name());
            ps.setBoolean(3, def.inSource());
            ps.setString(4, def.table());
            ps.setString(5, def.written());
            ps.setArray(6, c.createArrayOf("text", def.targets().toArray()));
            ps.setArray(7, c.createArrayOf("text", def.triggers().toArray()));
            ps.setString(8, def.kind() == SyncDefinition.Kind.LOG ? def.names().log() : null);
            ps.setArray(9, c.createArrayOf("text", def.drop().toArray()));
            ps.setString(10, def.digest());
            ps.executeUpdate();
        }
    }

    /** The job's sync trigger as recorded in the target database, if it ever installed one. */
    public static Optional<Installed> read(Connection target, String schema, String job) throws SQLException {
        try (PreparedStatement exists = target.prepareStatement("SELECT to_regclass(?)")) {
            exists.setString(1, Sql.quote(schema) + ".sync_triggers");
            try (ResultSet rs = exists.executeQuery()) {
                if (!rs.next() || rs.getString(1) == null) {
                    return Optional.empty();
                }
            }
        }
        try (PreparedStatement ps = target.prepareStatement("SELECT kind, in_source, table_name, written, targets,"
                + " triggers, log_table, drop_sql, digest, dropped_at IS NOT NULL FROM " + Sql.quote(schema)
                + ".sync_triggers WHERE job = ?")) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new Installed(
                        job,
                        SyncDefinition.Kind.valueOf(rs.getString(1)),
                        rs.getBoolean(2),
                        rs.getString(3),
                        rs.getString(4),
                        texts(rs.getArray(5)),
                        texts(rs.getArray(6)),
                        rs.getString(7),
                        texts(rs.getArray(8)),
                        rs.getString(9),
                        rs.getBoolean(10)));
            }
        }
    }

    /** Whether every trigger recorded is on its table, enabled, in the database {@code c} reaches. */
    public static boolean present(Connection c, Installed i) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM pg_trigger WHERE tgrelid = to_regclass(?)"
                + " AND tgname = ANY (?) AND tgenabled <> 'D'")) {
            ps.setString(1, i.table());
            ps.setArray(2, c.createArrayOf("text", i.triggers().toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getInt(1) == i.triggers().size();
            }
        }
    }

    /**
     * The keys logged and not yet re-applied: how many, and how long the oldest has waited.
     *
     * @param oldestSeconds null when none waits, or the log predates the time it records
     */
    public record Backlog(long keys, Double oldestSeconds) {
        static final Backlog NONE = new Backlog(0, null);
    }

    /** Keys logged and not yet re-applied (the modes that log keys), in the database {@code c} reaches; else 0. */
    public static long pending(Connection c, Installed i) throws SQLException {
        return backlog(c, i).keys();
    }

    /** The key log's backlog (the modes that log keys), in the database {@code c} reaches; else none. */
    public static Backlog backlog(Connection c, Installed i) throws SQLException {
        if (i.logTable() == null || i.dropped()) {
            return Backlog.NONE;
        }
        boolean timed;
        try (PreparedStatement exists = c.prepareStatement(
                "SELECT to_regclass(?) IS NOT NULL, EXISTS (SELECT 1 FROM"
                        + " pg_attribute WHERE attrelid = to_regclass(?) AND attname = 'sluice_logged_at' AND NOT attisdropped)")) {
            exists.setString(1, i.logTable());
            exists.setString(2, i.logTable());
            try (ResultSet rs = exists.executeQuery()) {
                if (!rs.next() || !rs.getBoolean(1)) {
                    return Backlog.NONE;
                }
                timed = rs.getBoolean(2);
            }
        }
        // A log installed by an earlier version has no times: its backlog is counted only.
        String oldest =
                timed ? "extract(epoch FROM clock_timestamp() - min(sluice_logged_at))::float8" : "NULL::float8";
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*), " + oldest + " FROM " + i.logTable());
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            double age = rs.getDouble(2);
            return new Backlog(rs.getLong(1), rs.wasNull() ? null : Math.max(0, age));
        }
    }

    private static List<String> texts(Array a) throws SQLException {
        return a == null ? List.of() : List.of((String[]) a.getArray());
    }
}
