package dev.sluice.engine.control;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import dev.sluice.engine.Actor;
import dev.sluice.engine.AuditEntry;
import dev.sluice.engine.keyset.Sql;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.Secrets;
import dev.sluice.engine.spec.SpecParser;

import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The audit trail, {@code <schema>.audit}: a row per command that changed a job, who asked and from where. The
 * database fills in what it knows better than the caller: the session's role ({@code session_user}) and the address it
 * sees the session come from ({@code inet_client_addr()}). A command that is one transaction (a request to a running
 * job, {@code forget}) writes its row in that transaction; a command that runs for long (a run, a rollback, finish)
 * writes its row just before its first change, as {@code running}, and its outcome when it ends. A command refused
 * as bad input before it changed anything leaves no row: nothing is written for it. Rows are never deleted by Sluice ({@code forget}
 * keeps a job's trail).
 */
public final class Audit {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** The outcome of a command that has not ended (or whose process died before it could say). */
    public static final String RUNNING = "running";

    private final DataSource dataSource;
    private final String table;

    public Audit(DataSource dataSource, String schema) {
        this.dataSource = dataSource;
        this.table = Sql.quote(schema) + ".audit";
    }

    /** The table, created with the job repository. */
    public static List<String> ddl(String schema) {
        String t = Sql.quote(schema) + ".audit";
        return List.of(
                "CREATE TABLE IF NOT EXISTS " + t + " (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                        + " at timestamptz NOT NULL DEFAULT now(), job text NOT NULL, command text NOT NULL,"
                        + " options jsonb NOT NULL DEFAULT '{}', via text NOT NULL, os_user text, host text,"
                        + " principal text, origin text, db_user text NOT NULL DEFAULT session_user,"
                        + " client_addr inet DEFAULT inet_client_addr(), spec_digest text,"
                        + " outcome text NOT NULL, message text, ended_at timestamptz)",
                "CREATE INDEX IF NOT EXISTS audit_job ON " + t + " (job, id)");
    }

    /** SHA-256 of the spec as Sluice writes it (so that two files saying the same thing have the same digest). */
    public static String digest(JobSpec spec) {
        return spec == null ? null : Sql.digest(SpecParser.toYaml(spec), 32);
    }

    /** A command about to be recorded: nothing is written until it {@link Entry#begin begins} or {@link Entry#end ends}. */
    public Entry entry(String job, String command, Map<String, Object> options, String specDigest, Actor actor) {
        return new Entry(job, command, options, specDigest, actor);
    }

    /** One command's row. */
    public final class Entry {
        private final String job;
        private final String command;
        private final Map<String, Object> options;
        private final String specDigest;
        private final Actor actor;
        private Long id;

        private Entry(String job, String command, Map<String, Object> options, String specDigest, Actor actor) {
            this.job = job;
            this.command = command;
            Map<String, Object> kept = new LinkedHashMap<>();
            options.forEach((k, v) -> {
                if (v != null) {
                    kept.put(k, v);
                }
            });
            this.options = kept;
            this.specDigest = specDigest;
            this.actor = actor;
        }

        public String command() {
            return command;
        }

        /** Records the command as running, in its own transaction, if the job repository exists. */
        public void begin() throws SQLException {
            try (Connection c = dataSource.getConnection()) {
                begin(c);
            }
        }

        /**
         * Records the command as running, in the caller's transaction (with the change it makes), if the job repository
         * exists (a command never creates it for its audit row alone).
         */
        public void begin(Connection c) throws SQLException {
            if (id == null && Sql.exists(c, table)) {
                id = insert(c, RUNNING, null, false);
            }
        }

        /**
         * Records how the command ended: its row if it began, else a row of its own, if the job repository exists (a
         * command refused before anything was written never creates it).
         */
        public void end(String outcome, String message) throws SQLException {
            try (Connection c = dataSource.getConnection()) {
                end(c, outcome, message);
            }
        }

        /** {@link #end(String, String)} in the caller's transaction. */
        public void end(Connection c, String outcome, String message) throws SQLException {
            if (id == null) {
                if (Sql.exists(c, table)) {
                    id = insert(c, outcome, message, true);
                }
                return;
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE " + table + " SET outcome = ?, message = ?, ended_at = now() WHERE id = ?")) {
                ps.setString(1, outcome);
                ps.setString(2, Secrets.redact(message));
                ps.setLong(3, id);
                ps.executeUpdate();
            }
        }

        /** Whether the command's row is written (it began, or it ended). */
        public boolean written() {
            return id != null;
        }

        /** The caller's transaction that wrote the row was rolled back: the row is not there. */
        public void rolledBack() {
            id = null;
        }

        private long insert(Connection c, String outcome, String message, boolean ended) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table
                    + " (job, command, options, via, os_user, host, principal, origin, spec_digest, outcome, message,"
                    + " ended_at) VALUES (?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?, ?, ?, CASE WHEN ? THEN now() END)"
                    + " RETURNING id")) {
                ps.setString(1, job);
                ps.setString(2, command);
                ps.setString(3, JSON.writeValueAsString(options));
                ps.setString(4, actor.via());
                ps.setString(5, actor.osUser());
                ps.setString(6, actor.host());
                ps.setString(7, actor.principal());
                ps.setString(8, actor.origin());
                ps.setString(9, specDigest);
                ps.setString(10, outcome);
                ps.setString(11, Secrets.redact(message));
                ps.setBoolean(12, ended);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        }
    }

    /** Job {@code job}'s trail, oldest first; empty if the job repository does not exist. */
    public List<AuditEntry> history(String job) throws SQLException {
        return read(" WHERE job = ? ORDER BY id", job);
    }

    /** Each job's last run (or resume or repair), by job. */
    public Map<String, AuditEntry> lastRuns() throws SQLException {
        Map<String, AuditEntry> out = new LinkedHashMap<>();
        for (AuditEntry e : read(
                " WHERE id IN (SELECT max(id) FROM " + table
                        + " WHERE command IN ('run', 'resume', 'repair') GROUP BY job) ORDER BY job",
                null)) {
            out.put(e.job(), e);
        }
        return out;
    }

    private List<AuditEntry> read(String where, String job) throws SQLException {
        List<AuditEntry> out = new ArrayList<>();
        try (Connection c = dataSource.getConnection()) {
            if (!Sql.exists(c, table)) {
                return out;
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT id, at, job, command, options::text, via, os_user,"
                    + " host, principal, origin, db_user, host(client_addr), spec_digest, outcome, message, ended_at"
                    + " FROM " + table + where)) {
                if (job != null) {
                    ps.setString(1, job);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new AuditEntry(
                                rs.getLong(1),
                                instant(rs.getTimestamp(2)),
                                rs.getString(3),
                                rs.getString(4),
                                JSON.readValue(rs.getString(5), new TypeReference<Map<String, Object>>() {}),
                                new Actor(
                                        rs.getString(6),
                                        rs.getString(7),
                                        rs.getString(8),
                                        rs.getString(9),
                                        rs.getString(10)),
                                rs.getString(11),
                                rs.getString(12),
                                rs.getString(13),
                                rs.getString(14),
                                rs.getString(15),
                                instant(rs.getTimestamp(16))));
                    }
                }
            }
        }
        return out;
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }
}
