package dev.sluice.engine.contract;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

import dev.sluice.engine.keyset.Sql;

import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The record of a job's contract steps in {@code sluice.contract_steps}: one row per step, written before the step
 * changes anything (STARTED, with what the step found before it began) and again when it is done (DONE, with the
 * objects it made), then REVERSED by a rollback. A step recorded as started owns the objects of its name: a kill at
 * any instant leaves a record that tells the next {@code finish} (or {@code rollback}) what is ours to finish (or
 * undo).
 */
public final class Ledger {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final TypeReference<LinkedHashMap<String, String>> FACTS = new TypeReference<>() {};

    /** Where a step stands. */
    public enum State {
        STARTED,
        DONE,
        REVERSED
    }

    /**
     * One step's record.
     *
     * @param definition the step as the spec wrote it (a change under a started step is refused)
     * @param facts      what the step found before it began and what it made: {@code was-not-null}, the set-aside
     *                   names of dropped columns
     */
    public record Entry(
            int step,
            String kind,
            String definition,
            State state,
            Map<String, String> facts,
            Instant startedAt,
            Instant doneAt,
            Instant reversedAt) {}

    private final String schema;

    public Ledger(String schema) {
        this.schema = schema;
    }

    private String table() {
        return Sql.quote(schema) + ".contract_steps";
    }

    /** The job's steps by their index in the contract; empty when none was started (or the table is not there yet). */
    public Map<Integer, Entry> read(Connection c, String job) throws SQLException {
        Map<Integer, Entry> entries = new TreeMap<>();
        try (PreparedStatement exists = c.prepareStatement("SELECT to_regclass(?)")) {
            exists.setString(1, table());
            try (ResultSet rs = exists.executeQuery()) {
                if (!rs.next() || rs.getString(1) == null) {
                    return entries;
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT step, kind, definition, state, facts::text, started_at,"
                + " done_at, reversed_at FROM " + table() + " WHERE job = ? ORDER BY step")) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    entries.put(
                            rs.getInt(1),
                            new Entry(
                                    rs.getInt(1),
                                    rs.getString(2),
                                    rs.getString(3),
                                    State.valueOf(rs.getString(4)),
                                    JSON.readValue(rs.getString(5), FACTS),
                                    instant(rs.getTimestamp(6)),
                                    instant(rs.getTimestamp(7)),
                                    instant(rs.getTimestamp(8))));
                }
            }
        }
        return entries;
    }

    /** Records that a step begins, with what it found; kept as it was when the step was begun before. */
    public void start(Connection c, String job, int step, String kind, String definition, Map<String, String> facts)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table()
                + " (job, step, kind, definition, state, facts) VALUES (?, ?, ?, ?, 'STARTED', ?::jsonb)"
                + " ON CONFLICT (job, step) DO UPDATE SET state = 'STARTED', kind = excluded.kind,"
                + " definition = excluded.definition, facts = excluded.facts, started_at = now(), done_at = NULL,"
                + " reversed_at = NULL WHERE " + table() + ".state = 'REVERSED'")) {
            ps.setString(1, job);
            ps.setInt(2, step);
            ps.setString(3, kind);
            ps.setString(4, definition);
            ps.setString(5, JSON.writeValueAsString(facts));
            ps.executeUpdate();
        }
    }

    /** Adds facts to a started step (what it made as it went). */
    public void note(Connection c, String job, int step, Map<String, String> facts) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement("UPDATE " + table() + " SET facts = facts || ?::jsonb WHERE job = ? AND step = ?")) {
            ps.setString(1, JSON.writeValueAsString(facts));
            ps.setString(2, job);
            ps.setInt(3, step);
            ps.executeUpdate();
        }
    }

    /** Moves a step to {@code state}. */
    public void mark(Connection c, String job, int step, State state) throws SQLException {
        String at = state == State.DONE ? "done_at" : state == State.REVERSED ? "reversed_at" : "started_at";
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE " + table() + " SET state = ?, " + at + " = now() WHERE job = ? AND step = ?")) {
            ps.setString(1, state.name());
            ps.setString(2, job);
            ps.setInt(3, step);
            ps.executeUpdate();
        }
    }

    /**
     * Whether {@code finish --purge} dropped the job's journal and the columns its steps set aside: then nothing of
     * it can be undone.
     */
    public boolean purged(Connection c, String job) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT 1 FROM " + Sql.quote(schema) + ".job_lifecycle WHERE job = ? AND purged_at IS NOT NULL")) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Forgets a job's steps (all reversed by its rollback, or purged with it). */
    public void forget(Connection c, String job) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table() + " WHERE job = ?")) {
            ps.setString(1, job);
            ps.executeUpdate();
        }
    }

    /** The table's definition, created with Sluice's other tables. */
    public static String ddl(String schema) {
        return "CREATE TABLE IF NOT EXISTS " + Sql.quote(schema) + ".contract_steps ("
                + "job text NOT NULL, step integer NOT NULL, kind text NOT NULL, definition text NOT NULL,"
                + " state text NOT NULL CHECK (state IN ('STARTED', 'DONE', 'REVERSED')),"
                + " facts jsonb NOT NULL DEFAULT '{}', started_at timestamptz NOT NULL DEFAULT now(),"
                + " done_at timestamptz, reversed_at timestamptz, PRIMARY KEY (job, step))";
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }
}
