package dev.sluice.engine.chunk;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;

import dev.sluice.engine.KeyRange;
import dev.sluice.engine.keyset.Companion;

/**
 * The chunk transaction's settings, {@code SET LOCAL} in one round trip: {@code lock_timeout} and
 * {@code statement_timeout}, so that a chunk blocked behind another session's lock gives way after the lock timeout
 * instead of queueing everyone behind it; and how the planner may reach the table, so that a chunk reads its own
 * rows and no others whatever the planner estimates.
 *
 * <p>A chunk's statements name their rows by key: a key range (the write, the validation), or a list of keys joined
 * to the table (a Java chunk's write, the sync key log's drain, a rollback, a copy's journal before PostgreSQL 18).
 * The planner sizes both from estimates that can be far off: a row-value range over a composite key is estimated
 * from its first column alone (up to a quarter of the table for a chunk of a thousand rows), a generic plan assumes
 * a third of the table for each bound, and an array or a CTE has no statistics at all. Estimated large, the range
 * is read with a sequential scan of the whole table, and the list is hashed against one; on a table of a hundred
 * million rows that is a hundred million rows read for every chunk. So sequential scans are off in every chunk (the
 * key's index serves the range; a table an operator's expression reads that has no index is still scanned, there is
 * no other way), and, where keys are joined, so are hash and merge joins: a nested loop through the key's index
 * reads exactly the keys listed. These only weigh the planner's choices; nothing that has no other plan fails.
 */
public final class ChunkTimeouts implements ChunkLoop.Settings {

    // sluice.chunk: the transaction is a chunk's, which journals its own writes (the in-place sync trigger, firing on
    // them, does not journal them again). With the WAL insert position as the chunk begins, so that what the chunk
    // wrote can be measured at its end.
    private static final String COMMON =
            "SELECT set_config('lock_timeout', ?, true), set_config('statement_timeout', ?, true),"
                    + " set_config('enable_seqscan', 'off', true), set_config('sluice.chunk', 'on', true)";
    private static final String END = ", pg_current_wal_insert_lsn()::text, pg_backend_pid()";
    // Custom plans, for a composite key: each chunk's statements planned with its own bounds, never a generic plan,
    // which assumes a third of the table per bound and, so estimated, chose a full index scan over the scalar pieces
    // of the range (seen on 14, a copy's target). A single-column range is one scalar bound each side, which a
    // generic plan keeps to the index (ChunkPlansTest), and planning every chunk would cost what it saves.
    private static final String CUSTOM = ", set_config('plan_cache_mode', 'force_custom_plan', true)";
    private static final String KEYS =
            ", set_config('enable_hashjoin', 'off', true)," + " set_config('enable_mergejoin', 'off', true)";

    /**
     * Sequential scans off until the end of the current transaction: for a range read on a connection of its own (a
     * cross-database copy's source), as in the chunk's own.
     */
    public static void readThroughIndex(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT set_config('enable_seqscan', 'off', true)")) {
            ps.executeQuery().close();
        }
    }

    /** A statement to run under other planner settings. */
    @FunctionalInterface
    public interface Statement {
        void run() throws SQLException;
    }

    /**
     * Runs {@code statement}, which joins a list of keys to a table, with hash and merge joins off (a nested loop
     * through the table's index reads exactly the keys listed), then puts the settings back as they were.
     */
    public static void withNestedLoops(Connection c, Statement statement) throws SQLException {
        String hash;
        String merge;
        try (PreparedStatement ps = c.prepareStatement("SELECT current_setting('enable_hashjoin'),"
                        + " current_setting('enable_mergejoin'), set_config('enable_hashjoin', 'off', true),"
                        + " set_config('enable_mergejoin', 'off', true)");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            hash = rs.getString(1);
            merge = rs.getString(2);
        }
        try {
            statement.run();
        } finally {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT set_config('enable_hashjoin', ?, true)," + " set_config('enable_mergejoin', ?, true)")) {
                ps.setString(1, hash);
                ps.setString(2, merge);
                ps.executeQuery().close();
            }
        }
    }

    /** Where a chunk's transaction starts: the WAL insert position, and the backend that runs the chunk. */
    public record Start(String walPosition, int backendPid) {}

    /**
     * The statement that opens a chunk's transaction ({@link #apply}'s), to be sent ahead of the chunk's range query in
     * the same round trip where the source can ({@link ChunkLoop.Source#next(Connection, Key, int, Opening)}), or
     * run alone; then where the chunk started.
     */
    public static class Opening implements Companion {
        private final String sql;
        private final String lock;
        private final String statement;
        private Start start;

        Opening(String sql, String lock, String statement) {
            this.sql = sql;
            this.lock = lock;
            this.statement = statement;
        }

        @Override
        public String sql() {
            return sql;
        }

        @Override
        public int bind(PreparedStatement ps, int from) throws SQLException {
            ps.setString(from, lock);
            ps.setString(from + 1, statement);
            return from + 2;
        }

        @Override
        public void read(ResultSet rs) throws SQLException {
            if (!rs.next()) {
                throw new SQLException("the chunk's settings returned no row");
            }
            int columns = rs.getMetaData().getColumnCount();
            started(new Start(rs.getString(columns - 1), rs.getInt(columns)));
        }

        void started(Start start) {
            this.start = start;
        }

        /** Where the chunk started; once run (alone or ahead of the range query). */
        public Start start() {
            if (start == null) {
                throw new IllegalStateException("the chunk's transaction was not opened");
            }
            return start;
        }
    }

    private final String lock;
    private final String statement;
    private final String setLocal;
    private final String setLocalKeys;

    public ChunkTimeouts(Duration lock, Duration statement) {
        this(lock, statement, false);
    }

    /** @param customPlans whether the chunk's statements are planned for its own bounds every time (composite keys) */
    public ChunkTimeouts(Duration lock, Duration statement, boolean customPlans) {
        this.lock = lock.toMillis() + "ms";
        this.statement = statement.toMillis() + "ms";
        String custom = customPlans ? CUSTOM : "";
        this.setLocal = COMMON + custom + END;
        this.setLocalKeys = COMMON + custom + KEYS + END;
    }

    /**
     * Applies the timeouts and reaches the table through its key's index, until the end of the current transaction.
     *
     * @return the server's WAL insert position now (for {@link #walSince}), and the chunk's backend
     */
    public Start apply(Connection c) throws SQLException {
        return apply(c, false);
    }

    /**
     * {@link #apply(Connection)}, for a chunk whose statements join a list of keys to the table when {@code joinsKeys}:
     * then by nested loops through the key's index only.
     */
    @Override
    public Start apply(Connection c, boolean joinsKeys) throws SQLException {
        Opening opening = opening(joinsKeys);
        opening.run(c);
        return opening.start();
    }

    @Override
    public Opening opening(boolean joinsKeys) {
        return new Opening(joinsKeys ? setLocalKeys : setLocal, lock, statement);
    }

    /**
     * What a chunk wrote to the WAL since its start: a one-row statement that a writer sends after its write in the
     * same round trip where it can ({@link ChunkWriter#write(Connection, KeyRange, WalSince)}), or run alone.
     */
    public static class WalSince implements Companion {
        private static final String SQL =
                "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), CAST(? AS pg_lsn))::bigint";
        private final String sql;
        private final String start;
        private long bytes = -1;

        WalSince(String sql, String start) {
            this.sql = sql;
            this.start = start;
        }

        @Override
        public String sql() {
            return sql;
        }

        @Override
        public int bind(PreparedStatement ps, int from) throws SQLException {
            ps.setString(from, start);
            return from + 1;
        }

        @Override
        public void read(ResultSet rs) throws SQLException {
            if (!rs.next()) {
                throw new SQLException("the WAL position query returned no row");
            }
            measured(rs.getLong(1));
        }

        void measured(long bytes) {
            this.bytes = Math.max(0, bytes);
        }

        /** The bytes; once run (alone or after the write). */
        public long bytes() {
            if (bytes < 0) {
                throw new IllegalStateException("the chunk's WAL was not measured");
            }
            return bytes;
        }
    }

    @Override
    public WalSince walProbe(Start start) {
        return new WalSince(WalSince.SQL, start.walPosition());
    }

    /**
     * The WAL the server wrote since {@code start} ({@link #apply}'s position): the chunk's own, and on a busy server
     * also what other sessions wrote meanwhile, so a WAL budget errs on the side of writing less (see docs).
     */
    @Override
    public long walSince(Connection c, Start start) throws SQLException {
        return walSince(c, start.walPosition());
    }

    /** {@link #walSince(Connection, Start)} from a WAL position. */
    public static long walSince(Connection c, String start) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), CAST(? AS pg_lsn))::bigint")) {
            ps.setString(1, start);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return Math.max(0, rs.getLong(1));
            }
        }
    }
}
