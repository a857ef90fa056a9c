package dev.sluice.engine.preflight;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import dev.sluice.engine.Finding;
import dev.sluice.engine.chunk.Upsert;
import dev.sluice.engine.chunk.WritePlan;
import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Keyset;
import dev.sluice.engine.keyset.Sql;
import dev.sluice.engine.keyset.Table;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.sync.SyncDefinition;
import dev.sluice.engine.sync.SyncNames;

/**
 * {@code sync: trigger}: refuses the specs a trigger cannot keep right, and builds the trigger for the others. What
 * an expression reads, and whether it is immutable, is decided by PostgreSQL ({@link SyncProbe}), not by reading the
 * text.
 */
final class SyncCheck {

    private SyncCheck() {}

    /**
     * @param read   the database the table is in (the source of a cross-database copy, else the target)
     * @param schema Sluice's schema, where the trigger function lives
     * @return the trigger to install, or null without {@code sync: trigger}
     */
    static SyncDefinition check(
            Connection target, Connection read, JobSpec spec, WritePlan plan, String schema, List<Finding> findings)
            throws SQLException {
        if (spec.sync() != JobSpec.Sync.TRIGGER) {
            return null;
        }
        Keyset keyset = plan.keyset();
        Table table = keyset.table();
        SyncDefinition.Kind kind = plan instanceof WritePlan.InPlace
                ? SyncDefinition.Kind.COMPUTE
                : plan instanceof WritePlan.Copy copy && copy.source() == null
                        ? SyncDefinition.Kind.MIRROR
                        : SyncDefinition.Kind.LOG;
        List<SyncProbe.Expr> exprs = expressions(spec, plan);
        Map<SyncProbe.Expr, SyncProbe.Reads> reads =
                SyncProbe.probe(read, table, exprs, kind != SyncDefinition.Kind.LOG);

        Set<String> writes = new LinkedHashSet<>();
        plan.targets().forEach(c -> writes.add(c.name()));
        Set<String> watched = new LinkedHashSet<>();
        for (Map.Entry<SyncProbe.Expr, SyncProbe.Reads> e : reads.entrySet()) {
            SyncProbe.Expr expr = e.getKey();
            SyncProbe.Reads r = e.getValue();
            if (!r.otherTables().isEmpty()) {
                throw new SpecException(
                        expr.field(),
                        "reads " + String.join(", ", r.otherTables()) + "; with sync:"
                                + " trigger it may read only the row, since a trigger on " + table.qualifiedName()
                                + " does not see changes there");
            }
            if (!(plan instanceof WritePlan.Copy)) { // a copy writes another table: its columns may share names
                for (String col : r.columns()) {
                    if (writes.contains(col)) {
                        throw new SpecException(
                                expr.field(),
                                "reads " + col + ", which the job writes: a trigger"
                                        + " would compute it from the value it replaces (n = n + 1 would count every write"
                                        + " again), so sync: trigger cannot keep it right");
                    }
                }
            }
            if (kind == SyncDefinition.Kind.COMPUTE) {
                for (String col : r.columns()) {
                    if (table.column(col) != null && table.column(col).generated()) {
                        throw new SpecException(
                                expr.field(),
                                "reads generated column " + col + ", which a BEFORE"
                                        + " trigger sees before PostgreSQL computes it; sync: trigger cannot use it");
                    }
                }
            }
            watched.addAll(r.columns());
            if (r.wholeRowOrNothing() && kind == SyncDefinition.Kind.LOG) {
                // Perhaps the whole row: any column but those the job writes may change what it computes.
                table.columns().keySet().stream()
                        .filter(col -> !writes.contains(col))
                        .forEach(watched::add);
            }
        }
        if (plan instanceof WritePlan.Java java) {
            for (Column c : java.reads()) {
                if (writes.contains(c.name())) {
                    throw new SpecException(
                            "transformer",
                            "'" + spec.transformer() + "' reads " + c.name() + ", which"
                                    + " it writes: re-applying it to a changed row would transform it twice, so sync: trigger"
                                    + " cannot keep it right");
                }
                watched.add(c.name());
            }
        }
        keyset.columns().forEach(c -> watched.add(c.name()));
        List<String> ordered =
                table.columns().keySet().stream().filter(watched::contains).toList();

        String written = plan instanceof WritePlan.Copy copy ? copy.target().qualifiedName() : table.qualifiedName();
        if (kind == SyncDefinition.Kind.LOG) {
            for (Column k : keyset.columns()) {
                if (k.name().equals("sluice_id") || k.name().equals("sluice_claim")) {
                    throw new SpecException(
                            "key",
                            "column " + k.name() + " has the name of a column of Sluice's key log;"
                                    + " sync: trigger cannot log this key");
                }
            }
        }
        refuseOtherJobs(
                target,
                schema,
                spec.name(),
                written,
                writes,
                plan instanceof WritePlan.Copy copy && copy.source() != null ? null : table.qualifiedName(),
                ordered,
                kind == SyncDefinition.Kind.COMPUTE);
        SyncNames names = SyncNames.of(schema, spec.name());
        TriggerCheck.Verdict triggers = TriggerCheck.withSync(
                read, target, plan, kind, ordered, List.of(names.lastTrigger("ins"), names.lastTrigger("upd")), schema);
        String searchPath = searchPath(read);
        SyncDefinition definition = switch (kind) {
            case COMPUTE -> {
                Map<Column, String> set = new LinkedHashMap<>();
                spec.set().forEach((name, expr) -> set.put(table.column(name), expr));
                yield SyncDefinition.compute(
                        spec.name(),
                        names,
                        keyset,
                        set,
                        spec.where(),
                        ordered,
                        searchPath,
                        triggers.othersMayChangeTargets(),
                        plan.journal());
            }
            case MIRROR -> {
                WritePlan.Copy copy = (WritePlan.Copy) plan;
                Map<Column, String> columns = new LinkedHashMap<>();
                spec.columns().forEach((name, expr) -> columns.put(copy.target().column(name), expr));
                yield SyncDefinition.mirror(
                        spec.name(),
                        names,
                        keyset,
                        copy.target(),
                        columns,
                        copy.conflict(),
                        Upsert.clause(columns.keySet(), copy.conflict()),
                        spec.where(),
                        ordered,
                        searchPath);
            }
            case LOG ->
                SyncDefinition.log(
                        spec.name(),
                        names,
                        keyset,
                        plan instanceof WritePlan.Copy,
                        written,
                        List.copyOf(writes),
                        ordered);
        };
        findings.add(Finding.ok(
                "sync",
                switch (kind) {
                            case COMPUTE ->
                                "trigger: the set expressions computed for every inserted row and every update of "
                                        + String.join(", ", ordered);
                            case MIRROR ->
                                "trigger: inserts, updates (key changes too) and deletes mirrored into " + written;
                            case LOG ->
                                "trigger: keys of written rows logged in " + names.log()
                                        + (plan instanceof WritePlan.Copy ? " (in the source database)" : "")
                                        + "; the runner re-applies them behind its checkpoint";
                        }
                        + ", installed before the first chunk with a stepped lock_timeout, kept until 'finish'"));
        findings.add(Finding.ok("sync cost", definition.cost() + writeRates(read, table)));
        findings.addAll(triggers.findings());
        return definition;
    }

    /** The expressions of the spec, with the type each yields where it is written. */
    private static List<SyncProbe.Expr> expressions(JobSpec spec, WritePlan plan) {
        List<SyncProbe.Expr> out = new ArrayList<>();
        if (plan instanceof WritePlan.InPlace p) {
            spec.set()
                    .forEach((name, expr) -> out.add(new SyncProbe.Expr(
                            "set." + name, expr, p.keyset().table().column(name).type())));
        } else if (plan instanceof WritePlan.Copy p) {
            spec.columns()
                    .forEach((name, expr) -> out.add(new SyncProbe.Expr(
                            "columns." + name, expr, p.target().column(name).type())));
        }
        if (spec.where() != null) {
            out.add(new SyncProbe.Expr("where", spec.where(), "boolean"));
        }
        return out;
    }

    /** The schemas names resolve in now, explicitly, then pg_temp last: what the trigger function runs with. */
    private static String searchPath(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                        "SELECT coalesce(string_agg(quote_ident(s), ', ' ORDER BY o), '') FROM unnest(current_schemas(false))"
                                + " WITH ORDINALITY AS x(s, o)");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            String schemas = rs.getString(1);
            return schemas.isEmpty() ? "pg_temp" : schemas + ", pg_temp";
        }
    }

    /**
     * Refuses a job whose written columns another job's installed sync trigger also writes (two triggers would fight
     * over them), or whose trigger would read columns another job's trigger writes in the same table, or (in place)
     * write columns another job's in-place trigger reads: two BEFORE triggers fire in the order of their names, and
     * the first computes from a value the second then changes.
     *
     * @param table   the table this job's trigger is on, when it is in the target database; else null
     * @param compute whether this job's trigger is the in-place kind (a BEFORE trigger)
     */
    private static void refuseOtherJobs(
            Connection target,
            String schema,
            String job,
            String written,
            Set<String> writes,
            String table,
            List<String> watched,
            boolean compute)
            throws SQLException {
        try (PreparedStatement exists = target.prepareStatement("SELECT to_regclass(?)")) {
            exists.setString(1, Sql.quote(schema) + ".sync_triggers");
            try (ResultSet rs = exists.executeQuery()) {
                if (!rs.next() || rs.getString(1) == null) {
                    return;
                }
            }
        }
        String[] fight = otherJob(target, schema, job, written, writes);
        if (fight != null) {
            throw new SpecException(
                    "sync",
                    written + " already has the sync trigger of job " + fight[0] + " on " + fight[1]
                            + ": two triggers would fight over the same columns; finish " + fight[0] + " first");
        }
        String[] feeds = table == null ? null : otherJob(target, schema, job, table, watched);
        if (feeds != null) {
            throw new SpecException(
                    "sync",
                    "the trigger would read " + feeds[1] + ", which the sync trigger of job "
                            + feeds[0]
                            + " writes: a change one trigger makes does not fire another, so rows would go out of"
                            + " step; finish " + feeds[0] + " first");
        }
        String[] readBy = compute ? computeJobReading(target, schema, job, table, writes) : null;
        if (readBy != null) {
            throw new SpecException(
                    "sync",
                    "the in-place sync trigger of job " + readBy[0] + " reads " + readBy[1]
                            + ", which this job writes: it may compute a row before this job's trigger changes it, so rows"
                            + " would go out of step; finish " + readBy[0] + " first");
        }
    }

    /**
     * Another job's installed in-place trigger on {@code table} that reads any of {@code columns}: its job and those
     * columns. What a trigger reads is what PostgreSQL recorded it depends on (its WHEN clause, its UPDATE OF list)
     * but the columns it writes.
     */
    private static String[] computeJobReading(
            Connection target, String schema, String job, String table, Set<String> columns) throws SQLException {
        try (PreparedStatement ps = target.prepareStatement("SELECT s.job, string_agg(DISTINCT a.attname::text, ', ')"
                + " FROM " + Sql.quote(schema) + ".sync_triggers s"
                + " JOIN pg_trigger t ON t.tgrelid = to_regclass(s.table_name) AND t.tgname = ANY (s.triggers)"
                + " JOIN pg_depend d ON d.classid = 'pg_trigger'::regclass AND d.objid = t.oid"
                + " AND d.refclassid = 'pg_class'::regclass AND d.refobjid = t.tgrelid AND d.refobjsubid > 0"
                + " JOIN pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = d.refobjsubid"
                + " WHERE s.table_name = ? AND s.job <> ? AND s.kind = 'COMPUTE' AND s.dropped_at IS NULL"
                + " AND a.attname::text <> ALL (s.targets) AND a.attname::text = ANY (?::text[])"
                + " GROUP BY s.job ORDER BY s.job LIMIT 1")) {
            return firstJob(ps, table, job, columns);
        }
    }

    /** The first row of a query of other jobs (a table, this job, columns): a job and its columns, or null. */
    private static String[] firstJob(PreparedStatement ps, String table, String job, Collection<String> columns)
            throws SQLException {
        ps.setString(1, table);
        ps.setString(2, job);
        ps.setArray(3, ps.getConnection().createArrayOf("text", columns.toArray()));
        try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? new String[] {rs.getString(1), rs.getString(2)} : null;
        }
    }

    /** Another job's installed trigger writing any of {@code columns} of {@code written}: its name and those columns. */
    private static String[] otherJob(
            Connection target, String schema, String job, String written, Collection<String> columns)
            throws SQLException {
        try (PreparedStatement ps = target.prepareStatement("SELECT job, array_to_string(targets, ', ') FROM "
                + Sql.quote(schema) + ".sync_triggers WHERE written = ? AND job <> ? AND dropped_at IS NULL"
                + " AND targets && ?::text[] ORDER BY job LIMIT 1")) {
            return firstJob(ps, written, job, columns);
        }
    }

    /** The table's writes so far, from its statistics: what the trigger's cost multiplies. */
    private static String writeRates(Connection c, Table table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT s.n_tup_ins, s.n_tup_upd, s.n_tup_del, d.stats_reset::date
                FROM pg_stat_all_tables s, pg_stat_database d
                WHERE s.relid = ? AND d.datname = current_database()""")) {
            ps.setLong(1, table.oid());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return "";
                }
                return String.format(
                        Locale.ROOT,
                        "; the table has had %,d inserts, %,d updates, %,d deletes" + " since statistics were reset%s",
                        rs.getLong(1),
                        rs.getLong(2),
                        rs.getLong(3),
                        rs.getString(4) == null ? "" : " (" + rs.getString(4) + ")");
            }
        }
    }
}
