package dev.sluice.engine.control;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import dev.sluice.engine.JobStatus;
import dev.sluice.engine.keyset.Sql;

/**
 * What a runner and the workers of a remote-partitioned run share besides the job repository, in two tables of the
 * repository's schema:
 *
 * <ul>
 *   <li>{@code remote_runs}, one row per running job execution, written by its runner: the job's rate limit (which the
 *       workers share among the partitions running), an operator's chunk target, and why the run stops (an operator's
 *       pause or cancel, a signal, a partition that failed), which every worker obeys after its chunk;
 *   <li>{@code partition_leases}, one row per partition sent: when and as which message it was sent, and the worker
 *       that took it (host, pid, its lock's backend), with the heartbeat that keeps its lease.
 * </ul>
 *
 * A partition is worked under a session-level advisory lock keyed by the job and the partition's name (not its step
 * execution: a restarted run's new execution of the same key range must wait for an old one still running), held on
 * a connection of the worker's own; PostgreSQL releases it when the worker dies.
 */
public final class RemoteRuns {

    private static final String KEY = "hashtextextended('sluice.partition:' || ? || ':' || ?, 0)";

    private final DataSource dataSource;
    private final String schema;

    public RemoteRuns(DataSource dataSource, String schema) {
        this.dataSource = dataSource;
        this.schema = Sql.quote(schema);
    }

    /** The tables, created with the job repository. */
    public static List<String> ddl(String schema) {
        String s = Sql.quote(schema);
        return List.of(
                "CREATE TABLE IF NOT EXISTS " + s + ".remote_runs (job_execution_id bigint PRIMARY KEY,"
                        + " job text NOT NULL, rows_per_second bigint NOT NULL, wal_bytes_per_second bigint NOT NULL,"
                        + " chunk_target_ms bigint, stop_reason text, updated_at timestamptz NOT NULL DEFAULT now())",
                "CREATE TABLE IF NOT EXISTS " + s + ".partition_leases (step_execution_id bigint PRIMARY KEY,"
                        + " job_execution_id bigint NOT NULL, job text NOT NULL, part text NOT NULL,"
                        + " message_id text, sent_at timestamptz NOT NULL DEFAULT now(), sends integer NOT NULL DEFAULT 1,"
                        + " worker_host text, worker_pid bigint, backend_pid integer, taken_at timestamptz,"
                        + " heartbeat_at timestamptz)",
                "CREATE INDEX IF NOT EXISTS partition_leases_job ON " + s + ".partition_leases (job, job_execution_id)",
                // Spring Integration's JDBC channel message store (its PostgreSQL schema), the partitions' channel.
                "CREATE SEQUENCE IF NOT EXISTS " + s + ".int_message_seq",
                "CREATE TABLE IF NOT EXISTS " + s + ".int_channel_message (message_id char(36) NOT NULL,"
                        + " group_key char(36) NOT NULL, created_date bigint NOT NULL, message_priority bigint,"
                        + " message_sequence bigint NOT NULL DEFAULT nextval('" + s + ".int_message_seq'),"
                        + " message_content bytea, region varchar(100) NOT NULL,"
                        + " PRIMARY KEY (region, group_key, created_date, message_sequence))",
                "CREATE INDEX IF NOT EXISTS int_channel_msg_delete_idx ON " + s
                        + ".int_channel_message (region, group_key, message_id)",
                // What wakes the workers (Spring Integration's PostgreSQL subscriber LISTENs on it).
                "CREATE OR REPLACE FUNCTION " + s + ".int_channel_message_notify() RETURNS trigger LANGUAGE plpgsql"
                        + " AS $f$ BEGIN PERFORM pg_notify('" + notifyChannel(schema)
                        + "', NEW.region || ' ' || NEW.group_key); RETURN NEW; END $f$",
                "DROP TRIGGER IF EXISTS int_channel_message_notify ON " + s + ".int_channel_message",
                "CREATE TRIGGER int_channel_message_notify AFTER INSERT ON " + s + ".int_channel_message"
                        + " FOR EACH ROW EXECUTE FUNCTION " + s + ".int_channel_message_notify()");
    }

    /** The channel's message table (Spring Integration's table prefix is this without {@code CHANNEL_MESSAGE}). */
    public static String channelTable(String schema) {
        return Sql.quote(schema) + ".int_channel_message";
    }

    /**
     * The prefix Spring Integration's PostgreSQL subscriber makes its LISTEN channel of ({@code
     * <prefix>channel_message_notify}): an identifier of its own per schema.
     */
    public static String notifyPrefix(String schema) {
        String safe = schema.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        return "sluice_" + (safe.length() > 30 ? safe.substring(0, 30) : safe) + "_";
    }

    private static String notifyChannel(String schema) {
        return notifyPrefix(schema) + "channel_message_notify";
    }

    /** What the runner says to the workers of one run. */
    public record Orders(long rowsPerSecond, long walBytesPerSecond, Duration chunkTarget, String stopReason) {}

    /** The runner: its run's orders, written as the run starts and whenever they change. */
    public void publish(long jobExecutionId, String job, Orders orders) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("INSERT INTO " + schema + ".remote_runs"
                        + " (job_execution_id, job, rows_per_second, wal_bytes_per_second, chunk_target_ms, stop_reason)"
                        + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (job_execution_id) DO UPDATE SET"
                        + " rows_per_second = excluded.rows_per_second,"
                        + " wal_bytes_per_second = excluded.wal_bytes_per_second,"
                        + " chunk_target_ms = excluded.chunk_target_ms, stop_reason = excluded.stop_reason,"
                        + " updated_at = now()")) {
            ps.setLong(1, jobExecutionId);
            ps.setString(2, job);
            ps.setLong(3, orders.rowsPerSecond());
            ps.setLong(4, orders.walBytesPerSecond());
            ps.setObject(
                    5,
                    orders.chunkTarget() == null ? null : orders.chunkTarget().toMillis());
            ps.setString(6, orders.stopReason());
            ps.executeUpdate();
        }
    }

    /** The runner, at the run's end: its orders go (the leases stay: status shows who worked each partition). */
    public void ended(long jobExecutionId) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement runs =
                        c.prepareStatement("DELETE FROM " + schema + ".remote_runs WHERE job_execution_id = ?")) {
            runs.setLong(1, jobExecutionId);
            runs.executeUpdate();
        }
    }

    /**
     * A worker's view of a run: its orders (null when the run has none: it ended), the partitions worked now, and
     * whether a runner still holds the job's lock.
     */
    public record View(Orders orders, int working, boolean runnerAlive) {}

    /** What a worker of the run reads between chunks (with its heartbeat). */
    public View view(Connection c, long jobExecutionId, Duration lease) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT r.rows_per_second, r.wal_bytes_per_second,"
                + " r.chunk_target_ms, r.stop_reason, (SELECT count(*) FROM " + schema + ".partition_leases l"
                + " WHERE l.job_execution_id = r.job_execution_id AND l.backend_pid IS NOT NULL"
                + " AND l.heartbeat_at > now() - ? * interval '1 millisecond'),"
                + " EXISTS (SELECT 1 FROM pg_locks k WHERE "
                + Sql.advisoryLockHeld("k", "hashtextextended('sluice.job:' || r.job, 0)") + ")"
                + " FROM " + schema + ".remote_runs r"
                + " WHERE r.job_execution_id = ?")) {
            ps.setLong(1, lease.toMillis());
            ps.setLong(2, jobExecutionId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return new View(null, 0, false);
                }
                long target = rs.getLong(3);
                Duration chunkTarget = rs.wasNull() ? null : Duration.ofMillis(target);
                return new View(
                        new Orders(rs.getLong(1), rs.getLong(2), chunkTarget, rs.getString(4)),
                        rs.getInt(5),
                        rs.getBoolean(6));
            }
        }
    }

    /** The runner: partition {@code stepExecutionId} was sent (again) as message {@code messageId}. */
    public void sent(long stepExecutionId, long jobExecutionId, String job, String messageId) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("INSERT INTO " + schema + ".partition_leases"
                        + " (step_execution_id, job_execution_id, job, part, message_id) SELECT ?, ?, ?,"
                        + " s.step_name, ? FROM " + schema + ".batch_step_execution s WHERE s.step_execution_id = ?"
                        + " ON CONFLICT (step_execution_id) DO UPDATE SET message_id = excluded.message_id,"
                        + " sent_at = now(), sends = partition_leases.sends + 1, worker_host = NULL,"
                        + " worker_pid = NULL, backend_pid = NULL, taken_at = NULL, heartbeat_at = NULL")) {
            ps.setLong(1, stepExecutionId);
            ps.setLong(2, jobExecutionId);
            ps.setString(3, job);
            ps.setString(4, messageId);
            ps.setLong(5, stepExecutionId);
            ps.executeUpdate();
        }
    }

    /**
     * The runner sends a partition again, if it stands as the runner last saw it: still as message {@code
     * messageId}, with the backend {@code backendPid} (null: none took it). A worker that took it meanwhile keeps it.
     *
     * @return whether the lease was renewed for the new message (else the partition is left as it is)
     */
    public boolean resent(long stepExecutionId, String messageId, Integer backendPid, String newMessageId)
            throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("UPDATE " + schema + ".partition_leases SET message_id = ?,"
                        + " sent_at = now(), sends = sends + 1, worker_host = NULL, worker_pid = NULL,"
                        + " backend_pid = NULL, taken_at = NULL, heartbeat_at = NULL WHERE step_execution_id = ?"
                        + " AND message_id IS NOT DISTINCT FROM ? AND backend_pid IS NOT DISTINCT FROM ?")) {
            ps.setString(1, newMessageId);
            ps.setLong(2, stepExecutionId);
            ps.setString(3, messageId);
            ps.setObject(4, backendPid);
            return ps.executeUpdate() == 1;
        }
    }

    /** What the runner knows of a partition it sent: whether it waits in the channel, who took it, and when. */
    public record Lease(
            long stepExecutionId,
            String part,
            String messageId,
            boolean queued,
            Integer backendPid,
            boolean backendAlive,
            boolean locked,
            long sinceSentMillis,
            Long sinceHeartbeatMillis,
            int sends) {}

    /**
     * The leases of the run's partitions that are still running in the job repository ({@code channelTable}: the
     * channel's message table, where a partition not taken yet still waits).
     */
    public List<Lease> running(long jobExecutionId, String channelTable) throws SQLException {
        String sql = "SELECT l.step_execution_id, l.part,"
                + " EXISTS (SELECT 1 FROM " + channelTable + " m WHERE m.message_id = l.message_id),"
                + " l.backend_pid, EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.backend_pid),"
                + " EXISTS (SELECT 1 FROM pg_locks k WHERE "
                + Sql.advisoryLockHeld("k", "hashtextextended('sluice.partition:' || l.job || ':' || l.part, 0)") + "),"
                + " (extract(epoch FROM now() - l.sent_at) * 1000)::bigint,"
                + " (extract(epoch FROM now() - l.heartbeat_at) * 1000)::bigint, l.sends, l.message_id"
                + " FROM " + schema + ".partition_leases l JOIN " + schema + ".batch_step_execution s"
                + " ON s.step_execution_id = l.step_execution_id"
                + " WHERE l.job_execution_id = ? AND s.status IN ('STARTING', 'STARTED', 'STOPPING')"
                + " ORDER BY l.step_execution_id";
        List<Lease> out = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, jobExecutionId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    int pid = rs.getInt(4);
                    Integer backend = rs.wasNull() ? null : pid;
                    long hb = rs.getLong(8);
                    Long sinceHeartbeat = rs.wasNull() ? null : hb;
                    out.add(new Lease(
                            rs.getLong(1),
                            rs.getString(2),
                            rs.getString(10),
                            rs.getBoolean(3),
                            backend,
                            rs.getBoolean(5),
                            rs.getBoolean(6),
                            rs.getLong(7),
                            sinceHeartbeat,
                            rs.getInt(9)));
                }
            }
        }
        return out;
    }

    /**
     * Ends the session that holds partition {@code part}'s lock, if it is still backend {@code backendPid} (a worker
     * cut off, whose session the server has not yet found dead): its lease is over, and with its session its lock
     * goes. A chunk it still commits on another connection fails on its step execution's version once the partition
     * has moved on.
     *
     * @return whether a session was ended
     */
    public boolean fence(String job, String part, int backendPid) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT pg_terminate_backend(k.pid) FROM pg_locks k"
                        + " WHERE k.pid = ? AND " + Sql.advisoryLockHeld("k", KEY))) {
            ps.setInt(1, backendPid);
            ps.setString(2, job);
            ps.setString(3, part);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    /** The workers of a run's partitions, by partition name (as status shows them). */
    public static Map<String, JobStatus.Runner> workers(Connection c, String schemaName, String job)
            throws SQLException {
        String schema = Sql.quote(schemaName);
        Map<String, JobStatus.Runner> out = new HashMap<>();
        if (!Sql.exists(c, schema + ".partition_leases")) {
            return out;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT ON (part) part, worker_pid, worker_host,"
                + " backend_pid FROM " + schema + ".partition_leases WHERE job = ? AND backend_pid IS NOT NULL"
                + " ORDER BY part, taken_at DESC")) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long pid = rs.getLong(2);
                    out.put(
                            rs.getString(1),
                            new JobStatus.Runner(rs.wasNull() ? null : pid, rs.getString(3), rs.getInt(4)));
                }
            }
        }
        return out;
    }

    /**
     * A worker's hold on one partition: the partition's advisory lock, on a connection of its own that also beats
     * the lease's heartbeat. Closing it releases the lock.
     */
    public static final class Hold implements AutoCloseable {
        private final Connection connection;
        private final String schema;
        private final String job;
        private final String part;
        private final long stepExecutionId;
        private volatile boolean lost;

        private Hold(Connection connection, String schema, String job, String part, long stepExecutionId) {
            this.connection = connection;
            this.schema = schema;
            this.job = job;
            this.part = part;
            this.stepExecutionId = stepExecutionId;
        }

        /**
         * Beats the heartbeat (as this worker's lease), and reads the run's orders.
         *
         * @return the run's view, or null if the lease is no longer this worker's (the runner sent the partition again)
         * @throws SQLException if the lock's session is gone: the partition must stop
         */
        public View beat(RemoteRuns runs, long jobExecutionId, Duration lease) throws SQLException {
            try (PreparedStatement ps = connection.prepareStatement("UPDATE " + schema + ".partition_leases"
                    + " SET heartbeat_at = now() WHERE step_execution_id = ? AND backend_pid = pg_backend_pid()")) {
                ps.setLong(1, stepExecutionId);
                if (ps.executeUpdate() == 0) {
                    lost = true;
                    return null;
                }
            } catch (SQLException e) {
                lost = true;
                throw e;
            }
            return runs.view(connection, jobExecutionId, lease);
        }

        /** Whether the lock's session still answers. */
        public boolean alive() {
            try {
                return !lost && connection.isValid(2);
            } catch (SQLException e) {
                return false;
            }
        }

        /**
         * Makes sure the lock is still this worker's, before a chunk.
         *
         * @throws RunnerLock.Lost if it is not
         */
        public void verify() {
            if (lost) {
                throw new RunnerLock.Lost(
                        "lost the lock of its partition (its session ended, or its lease lapsed)", null);
            }
            try {
                if (!connection.isValid(5)) {
                    lost = true;
                    throw new RunnerLock.Lost("lost the lock of its partition (its session ended)", null);
                }
            } catch (SQLException e) {
                lost = true;
                throw new RunnerLock.Lost("lost the lock of its partition: " + e.getMessage(), e);
            }
        }

        /**
         * Lets the partition go: its lock released and its heartbeat cleared, so that the runner, finding it still
         * running, sends it to another worker at once. The connection goes back to its pool (a session-level lock would
         * otherwise stay with the pooled session).
         */
        @Override
        public void close() {
            try (connection;
                    PreparedStatement unlock = connection.prepareStatement("SELECT pg_advisory_unlock(" + KEY + ")");
                    PreparedStatement release = connection.prepareStatement(
                            "UPDATE " + schema + ".partition_leases"
                                    + " SET heartbeat_at = NULL WHERE step_execution_id = ? AND backend_pid = pg_backend_pid()");
                    PreparedStatement reset = connection.prepareStatement("RESET application_name")) {
                release.setLong(1, stepExecutionId);
                release.executeUpdate();
                unlock.setString(1, job);
                unlock.setString(2, part);
                unlock.execute();
                reset.execute();
            } catch (SQLException e) {
                // the session ended, and its lock with it
            }
        }
    }

    /**
     * Takes partition {@code part} of job {@code job} (as step execution {@code stepExecutionId}) for this worker: its
     * lock, and the lease row.
     *
     * @return the hold, or null if another session holds the partition's lock
     */
    public Hold take(String job, String part, long stepExecutionId, long jobExecutionId) throws SQLException {
        Connection c = dataSource.getConnection();
        try {
            c.setAutoCommit(true);
            try (PreparedStatement ps =
                    c.prepareStatement("SELECT pg_try_advisory_lock(" + KEY + "), pg_backend_pid()")) {
                ps.setString(1, job);
                ps.setString(2, part);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        c.close();
                        return null;
                    }
                    int backend = rs.getInt(2);
                    String host = RunnerLock.host();
                    RunnerLock.nameSession(c, "sluice worker pid=");
                    try (PreparedStatement lease = c.prepareStatement("INSERT INTO " + schema + ".partition_leases"
                            + " (step_execution_id, job_execution_id, job, part, worker_host, worker_pid, backend_pid,"
                            + " taken_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?, now(), now())"
                            + " ON CONFLICT (step_execution_id) DO UPDATE SET worker_host = excluded.worker_host,"
                            + " worker_pid = excluded.worker_pid, backend_pid = excluded.backend_pid,"
                            + " taken_at = now(), heartbeat_at = now()")) {
                        lease.setLong(1, stepExecutionId);
                        lease.setLong(2, jobExecutionId);
                        lease.setString(3, job);
                        lease.setString(4, part);
                        lease.setString(5, host);
                        lease.setLong(6, ProcessHandle.current().pid());
                        lease.setInt(7, backend);
                        lease.executeUpdate();
                    }
                    return new Hold(c, schema, job, part, stepExecutionId);
                }
            }
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
    }
}
