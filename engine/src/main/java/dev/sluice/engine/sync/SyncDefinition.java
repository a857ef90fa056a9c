package dev.sluice.engine.sync;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import dev.sluice.engine.chunk.Journal;
import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Keyset;
import dev.sluice.engine.keyset.Sql;
import dev.sluice.engine.keyset.Table;

/**
 * What {@code sync: trigger} installs for one job, as SQL: the trigger function and the triggers on the table (and,
 * for the modes that log keys, the key log). Built by preflight from what it proved about the spec's expressions
 * (which columns they read, that they are immutable); installed by {@link SyncInstaller}, dropped by
 * {@code finish}. The package README reasons out why each kind agrees with the chunks whatever the interleaving.
 *
 * @param kind      how the trigger keeps rows in step
 * @param inSource  whether the triggers live in the source database of a cross-database copy
 * @param table     the table the triggers are on, qualified and quoted
 * @param written   the table whose columns the job writes (the table itself, or {@code into}), qualified and quoted
 * @param targets   the columns the job writes, in {@code written}
 * @param watched   the columns whose change makes an UPDATE fire the trigger: what the expressions and the filter
 *                  read, and the key
 * @param install   the statements that install it, in order, each one command
 */
public record SyncDefinition(
        String job,
        Kind kind,
        SyncNames names,
        boolean inSource,
        String table,
        String written,
        List<String> targets,
        List<String> watched,
        List<String> install) {

    public enum Kind {
        /** In place: a BEFORE trigger computes the job's {@code set} expressions for every written row. */
        COMPUTE,
        /** Copy within one database: an AFTER trigger mirrors inserts, updates and deletes into {@code into}. */
        MIRROR,
        /** Java transformer, cross-database copy: an AFTER trigger logs changed keys; the runner re-applies them. */
        LOG
    }

    /** A digest of the installed SQL: an installed trigger with the same digest needs no new install. */
    public String digest() {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256")
                    .digest(String.join("\n;\n", install).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JRE", e);
        }
    }

    /** The trigger names on {@link #table}: a compute kind's fire after the table's other BEFORE triggers. */
    public List<String> triggers() {
        return kind == Kind.COMPUTE
                ? List.of(names.lastTrigger("ins"), names.lastTrigger("upd"))
                : List.of(names.trigger("ins"), names.trigger("upd"));
    }

    /** What one write costs the application with the trigger, for {@code plan}. */
    public String cost() {
        return switch (kind) {
            case COMPUTE ->
                "each INSERT, and each UPDATE that changes " + String.join(", ", watched) + ", evaluates "
                        + targets.size() + " expression(s) more, in the writing statement";
            case MIRROR ->
                "each INSERT, DELETE, and UPDATE that changes " + String.join(", ", watched) + ", also writes"
                        + " one row of " + written + " (an upsert; a delete and an upsert when the key changes)";
            case LOG ->
                "each INSERT, DELETE, and UPDATE that changes " + String.join(", ", watched) + ", also inserts"
                        + " one key into " + names.log() + ", which the runner drains";
        };
    }

    /**
     * In place: the {@code set} expressions computed for the new row, before it is written, after every other BEFORE
     * trigger (its name sorts last), so from what they leave: on every INSERT, and on every UPDATE that changed a
     * column the expressions or the filter read, whoever changed it (the statement, or a trigger before this one).
     * With an undo journal, each row of the application's whose written columns the trigger changes is journaled
     * too, as a chunk journals its rows (what the row would have held, and the hash of what the trigger wrote), so
     * that a rollback restores the rows the application wrote while the trigger was installed as exactly as the ones
     * the chunks wrote: the journal's order (its sequence) puts the two in the order they happened to a row. A
     * chunk's own UPDATE journals its rows itself (the chunk's transaction says so: {@code sluice.chunk}).
     *
     * @param recomputeTargets whether an UPDATE that changed a target fires it too: where another BEFORE UPDATE
     *                         trigger may change a target, on the chunks' writes (after a chunk computed it) as on the
     *                         application's; each chunk's rows are then computed twice, and the application's own
     *                         writes of a target are computed again too. Otherwise those stay as the application
     *                         wrote them, for validation to judge.
     * @param journal          where the rows go, or null without {@code undo}
     */
    public static SyncDefinition compute(
            String job,
            SyncNames names,
            Keyset keyset,
            Map<Column, String> set,
            String where,
            List<String> watched,
            String searchPath,
            boolean recomputeTargets,
            Journal journal) {
        String alias = alias(keyset.table());
        List<Column> targets = List.copyOf(set.keySet());
        String images = "ARRAY[" + String.join(", ", Journal.texts("NEW.", targets)) + "]";
        StringBuilder body = new StringBuilder("#variable_conflict use_column\n");
        if (journal != null) {
            body.append("DECLARE\n  sluice_before text[];\n");
        }
        body.append("BEGIN\n");
        if (where != null) {
            body.append("  IF (SELECT (")
                    .append(where)
                    .append("\n) FROM (SELECT NEW.*) AS ")
                    .append(alias)
                    .append(") IS NOT TRUE THEN\n    RETURN NEW;\n  END IF;\n");
        }
        if (journal != null) {
            body.append("  sluice_before := ").append(images).append(";\n");
        }
        body.append("  SELECT ")
                .append(set.values().stream().map(e -> "(" + e + "\n)").collect(Collectors.joining(", ")))
                .append("\n  INTO ")
                .append(targets.stream().map(c -> "NEW." + c.quoted()).collect(Collectors.joining(", ")))
                .append("\n  FROM (SELECT NEW.*) AS ")
                .append(alias)
                .append(";\n");
        if (journal != null) {
            body.append("  IF sluice_before IS DISTINCT FROM ")
                    .append(images)
                    .append(" AND current_setting('sluice.chunk', true) IS DISTINCT FROM 'on' THEN\n    PERFORM ")
                    .append(names.journal())
                    .append("(ARRAY[")
                    .append(String.join(", ", Journal.texts("NEW.", keyset.columns())))
                    .append("], sluice_before, ")
                    .append(Journal.hash("NEW.", targets))
                    .append(");\n  END IF;\n");
        }
        body.append("  RETURN NEW;\nEND\n");
        List<String> install = new ArrayList<>();
        if (journal != null) {
            install.add(journalFunction(names, journal));
        }
        install.add(function(names, body.toString(), false, searchPath));
        String table = keyset.table().qualifiedName();
        List<String> targetNames = names(targets);
        install.add(trigger(names.lastTrigger("ins"), "BEFORE INSERT", table, null, names));
        // Not UPDATE OF: a trigger before this one may change what it reads in an update that set other columns.
        install.add(trigger(
                names.lastTrigger("upd"),
                "BEFORE UPDATE",
                table,
                changed(watched) + (recomputeTargets ? " OR " + changed(targetNames) : ""),
                names));
        return new SyncDefinition(job, Kind.COMPUTE, names, false, table, table, targetNames, watched, install);
    }

    /**
     * Copy within one database: the row mirrored into {@code into} after each write, by the same expressions and
     * the same upsert as the chunks; a delete, a key change or a row leaving the filter deletes the old key's row.
     *
     * @param conflict the target's columns that receive the key columns, in key order
     */
    public static SyncDefinition mirror(
            String job,
            SyncNames names,
            Keyset keyset,
            Table into,
            Map<Column, String> columns,
            List<Column> conflict,
            String upsert,
            String where,
            List<String> watched,
            String searchPath) {
        String alias = alias(keyset.table());
        List<String> oldKey = new ArrayList<>();
        for (int i = 0; i < conflict.size(); i++) {
            // As the chunks' INSERT assigns it: the receiving column's type may differ from the key's.
            oldKey.add(conflict.get(i).quoted() + " = CAST(OLD."
                    + keyset.columns().get(i).quoted() + " AS "
                    + conflict.get(i).castType() + ")");
        }
        String matches =
                where == null ? null : "(SELECT (" + where + "\n) FROM (SELECT NEW.*) AS " + alias + ") IS TRUE";
        StringBuilder body = new StringBuilder("#variable_conflict use_column\nBEGIN\n");
        body.append("  IF TG_OP = 'DELETE' OR TG_OP = 'UPDATE' AND (")
                .append(changed(names(keyset.columns())))
                .append(matches == null ? "" : " OR NOT " + matches)
                .append(") THEN\n")
                .append("    DELETE FROM ")
                .append(into.qualifiedName())
                .append(" WHERE ")
                .append(String.join(" AND ", oldKey))
                .append(";\n  END IF;\n")
                .append("  IF TG_OP = 'DELETE'")
                .append(matches == null ? "" : " OR NOT " + matches)
                .append(" THEN\n    RETURN NULL;\n  END IF;\n")
                .append("  INSERT INTO ")
                .append(into.qualifiedName())
                .append(" (")
                .append(columns.keySet().stream().map(Column::quoted).collect(Collectors.joining(", ")))
                .append(")\n  SELECT ")
                .append(columns.values().stream().map(e -> "(" + e + "\n)").collect(Collectors.joining(", ")))
                .append("\n  FROM (SELECT NEW.*) AS ")
                .append(alias)
                .append("\n ")
                .append(upsert)
                .append(";\n")
                .append("  RETURN NULL;\nEND\n");
        List<String> install = new ArrayList<>();
        install.add(function(names, body.toString(), false, searchPath));
        String table = keyset.table().qualifiedName();
        install.add(trigger(names.trigger("ins"), "AFTER INSERT OR DELETE", table, null, names));
        // Not UPDATE OF: a BEFORE trigger may change what it reads in an update that set other columns.
        install.add(trigger(names.trigger("upd"), "AFTER UPDATE", table, changed(watched), names));
        return new SyncDefinition(
                job,
                Kind.MIRROR,
                names,
                false,
                table,
                into.qualifiedName(),
                columns.keySet().stream().map(Column::name).toList(),
                watched,
                install);
    }

    /**
     * Java transformer and cross-database copy: the keys of written rows logged (the old key too when it goes: a
     * delete, a key change), for the runner to re-apply.
     *
     * @param inSource whether the table (and so the log) is in the source database of a cross-database copy
     */
    public static SyncDefinition log(
            String job,
            SyncNames names,
            Keyset keyset,
            boolean inSource,
            String written,
            List<String> targets,
            List<String> watched) {
        List<String> keys = keyset.columns().stream().map(Column::quoted).toList();
        String keyList = String.join(", ", keys);
        String body = "BEGIN\n"
                + "  IF TG_OP = 'DELETE' OR TG_OP = 'UPDATE' AND " + changed(names(keyset.columns())) + " THEN\n"
                + "    INSERT INTO " + names.log() + " (" + keyList + ") VALUES ("
                + keys.stream().map(k -> "OLD." + k).collect(Collectors.joining(", ")) + ");\n"
                + "  END IF;\n"
                + "  IF TG_OP <> 'DELETE' THEN\n"
                + "    INSERT INTO " + names.log() + " (" + keyList + ") VALUES ("
                + keys.stream().map(k -> "NEW." + k).collect(Collectors.joining(", ")) + ");\n"
                + "  END IF;\n"
                + "  RETURN NULL;\nEND\n";
        List<String> install = new ArrayList<>();
        install.add("CREATE TABLE IF NOT EXISTS " + names.log() + " (sluice_id bigint GENERATED ALWAYS AS IDENTITY"
                + " PRIMARY KEY, "
                + keyset.columns().stream()
                        .map(c -> c.quoted() + " " + c.type() + " NOT NULL")
                        .collect(Collectors.joining(", "))
                + ", sluice_claim text,"
                // When the key was logged: how far behind the drain is (status, require's --sync-lag).
                + " sluice_logged_at timestamptz NOT NULL DEFAULT now())");
        // The drain finds its claimed entries by claim; only claimed entries are in this index, so the application's
        // inserts (unclaimed) never pay for it, and a claim is found without reading the whole log (a sequential scan
        // would also make PostgreSQL before 18 weigh every plan of the drain's statements as equally bad; see
        // chunk.ChunkTimeouts).
        install.add("CREATE INDEX IF NOT EXISTS " + Sql.quote("sync_claim_" + names.base()) + " ON " + names.log()
                + " (sluice_claim) WHERE sluice_claim IS NOT NULL");
        // It evaluates nothing of the spec and names only Sluice's log, schema-qualified: it may run with Sluice's
        // rights (the application's role needs none on the log), on a search_path nobody else can add to.
        install.add(function(names, body, true, "pg_catalog, pg_temp"));
        String table = keyset.table().qualifiedName();
        install.add(trigger(names.trigger("ins"), "AFTER INSERT OR DELETE", table, null, names));
        // Not UPDATE OF: a BEFORE trigger may change what it reads in an update that set other columns.
        install.add(trigger(names.trigger("upd"), "AFTER UPDATE", table, changed(watched), names));
        return new SyncDefinition(job, Kind.LOG, names, inSource, table, written, targets, watched, install);
    }

    /** The statements that remove it all, each lock-safe on its own (see {@link SyncInstaller}). */
    public List<String> drop() {
        List<String> out = new ArrayList<>();
        for (String t : triggers()) {
            out.add("DROP TRIGGER IF EXISTS " + Sql.quote(t) + " ON " + table);
        }
        out.add("DROP FUNCTION IF EXISTS " + names.function() + "()");
        if (kind == Kind.COMPUTE) {
            out.add("DROP FUNCTION IF EXISTS " + names.journal() + "(text[], text[], bigint)");
        }
        if (kind == Kind.LOG) {
            out.add("DROP TABLE IF EXISTS " + names.log());
        }
        return out;
    }

    /**
     * The function body is dollar-quoted with a tag that does not occur in it, so that no text of an expression can
     * end it. A fixed search_path that ends in pg_temp: the names the expressions were checked with are the names
     * they resolve to in every session that fires the trigger. Functions that evaluate the spec's expressions run
     * with the rights of the writing session (never Sluice's: a function someone adds to a schema on the path could
     * otherwise run with them).
     */
    private static String function(SyncNames names, String body, boolean definer, String searchPath) {
        String tag = "$sluice$";
        for (int i = 0; body.contains(tag); i++) {
            tag = "$sluice" + i + "$";
        }
        return "CREATE OR REPLACE FUNCTION " + names.function() + "() RETURNS trigger LANGUAGE plpgsql"
                + (definer ? " SECURITY DEFINER" : "") + " SET search_path = " + searchPath + " AS " + tag + "\n"
                + body + tag;
    }

    /**
     * The function the trigger journals a row with: one entry of one row in the job's undo journal, marked as the
     * trigger's. It names only Sluice's journal and takes values, no SQL: it runs with Sluice's rights (the
     * application's role needs none on the journal), on a search_path nobody else can add to.
     */
    private static String journalFunction(SyncNames names, Journal journal) {
        // The job name is [a-z0-9_-]+ (Journal checks it): a literal nothing can end early. Keys and pre-images are
        // stored column by column ([column][row]) as a chunk's are: here one row, so each column an array of one.
        return "CREATE OR REPLACE FUNCTION " + names.journal() + "(keys text[], before text[], hash bigint)"
                + " RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $sluice$\n"
                + "INSERT INTO " + journal.table() + " (job, keys, before, existed, after_hash, rows, time_zone,"
                + " interval_style, by_trigger) SELECT '" + journal.job() + "',"
                + " (SELECT array_agg(ARRAY[k] ORDER BY o) FROM unnest(keys) WITH ORDINALITY AS u(k, o)),"
                + " (SELECT array_agg(ARRAY[b] ORDER BY o) FROM unnest(before) WITH ORDINALITY AS u(b, o)),"
                + " '{}'::boolean[], ARRAY[hash], 1, current_setting('TimeZone'), current_setting('IntervalStyle'), true\n"
                + "$sluice$";
    }

    private static String trigger(String name, String events, String table, String when, SyncNames names) {
        return "CREATE OR REPLACE TRIGGER " + Sql.quote(name) + " " + events + " ON " + table + " FOR EACH ROW"
                + (when == null ? "" : " WHEN (" + when + ")") + " EXECUTE FUNCTION " + names.function() + "()";
    }

    /**
     * Whether any of the columns changed: record images compared ({@code *<>}), which works for every type (json
     * has no equality) and takes two NULLs as equal.
     */
    private static String changed(List<String> columns) {
        return "ROW(" + prefixed("OLD.", columns) + ")::record *<> ROW(" + prefixed("NEW.", columns) + ")::record";
    }

    private static String prefixed(String prefix, List<String> columns) {
        return columns.stream().map(c -> prefix + Sql.quote(c)).collect(Collectors.joining(", "));
    }

    private static List<String> names(List<Column> columns) {
        return columns.stream().map(Column::name).toList();
    }

    /** The table's own name, quoted: the expressions may qualify columns with it, as in the chunks' statements. */
    private static String alias(Table table) {
        return Sql.quote(table.name());
    }
}
