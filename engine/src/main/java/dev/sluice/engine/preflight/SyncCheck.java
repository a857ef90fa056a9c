package dev.sluice.engine.preflight;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
 * an expression reads, and whether it is immutable, is decided by PostgreSQL, not by reading the text: in a
 * transaction that is always rolled back, each expression becomes a temporary view over the table (its dependencies
 * in pg_depend are the columns and tables it reads) and, where a trigger evaluates it, a generated column of a
 * temporary copy of the table (which PostgreSQL refuses unless the expression is immutable and reads only the row).
 * Neither evaluates the expression: the view is never queried, and the copy has no rows.
 */
final class SyncCheck {

    /** One expression the job's trigger or runner evaluates: the spec field it came from and the type it yields. */
    private record Expr(String field, String sql, String type) {
    }

    /**
     * What an expression reads: columns of the table, and other tables. PostgreSQL records a dependency on the whole
     * table ({@code wholeRowOrNothing}) both for a whole-row reference and for an expression that reads no column;
     * where a trigger evaluates the expression, the generated-column probe refuses whole-row references, so there it
     * means nothing read.
     */
    private record Reads(Set<String> columns, Set<String> otherTables, boolean wholeRowOrNothing) {
    }

    private SyncCheck() {
    }

    /**
     * @param read   the database the table is in (the source of a cross-database copy, else the target)
     * @param schema Sluice's schema, where the trigger function lives
     * @return the trigger to install, or null without {@code sync: trigger}
     */
    static SyncDefinition check(Connection target, Connection read, JobSpec spec, WritePlan plan, String schema,
                                List<Finding> findings) throws SQLException {
        if (spec.sync() != JobSpec.Sync.TRIGGER) {
            return null;
        }
        Keyset keyset = plan.keyset();
        Table table = keyset.table();
        SyncDefinition.Kind kind = plan instanceof WritePlan.InPlace ? SyncDefinition.Kind.COMPUTE
                : plan instanceof WritePlan.Copy copy && copy.source() == null ? SyncDefinition.Kind.MIRROR
                : SyncDefinition.Kind.LOG;
        List<Expr> exprs = expressions(spec, plan);
        Map<Expr, Reads> reads = probe(read, table, exprs, kind != SyncDefinition.Kind.LOG);

        Set<String> writes = new LinkedHashSet<>();
        plan.targets().forEach(c -> writes.add(c.name()));
        Set<String> watched = new LinkedHashSet<>();
        for (Map.Entry<Expr, Reads> e : reads.entrySet()) {
            Expr expr = e.getKey();
            Reads r = e.getValue();
            if (!r.otherTables().isEmpty()) {
                throw new SpecException(expr.field(), "reads " + String.join(", ", r.otherTables()) + "; with sync:"
                        + " trigger it may read only the row, since a trigger on " + table.qualifiedName()
                        + " does not see changes there");
            }
            if (!(plan instanceof WritePlan.Copy)) { // a copy writes another table: its columns may share names
                for (String col : r.columns()) {
                    if (writes.contains(col)) {
                        throw new SpecException(expr.field(), "reads " + col + ", which the job writes: a trigger"
                                + " would compute it from the value it replaces (n = n + 1 would count every write"
                                + " again), so sync: trigger cannot keep it right");
                    }
                }
            }
            if (kind == SyncDefinition.Kind.COMPUTE) {
                for (String col : r.columns()) {
                    if (table.column(col) != null && table.column(col).generated()) {
                        throw new SpecException(expr.field(), "reads generated column " + col + ", which a BEFORE"
                                + " trigger sees before PostgreSQL computes it; sync: trigger cannot use it");
                    }
                }
            }
            watched.addAll(r.columns());
            if (r.wholeRowOrNothing() && kind == SyncDefinition.Kind.LOG) {
                // Perhaps the whole row: any column but those the job writes may change what it computes.
                table.columns().keySet().stream().filter(col -> !writes.contains(col)).forEach(watched::add);
            }
        }
        if (plan instanceof WritePlan.Java java) {
            for (Column c : java.reads()) {
                if (writes.contains(c.name())) {
                    throw new SpecException("transformer", "'" + spec.transformer() + "' reads " + c.name() + ", which"
                            + " it writes: re-applying it to a changed row would transform it twice, so sync: trigger"
                            + " cannot keep it right");
                }
                watched.add(c.name());
            }
        }
        keyset.columns().forEach(c -> watched.add(c.name()));
        List<String> ordered = table.columns().keySet().stream().filter(watched::contains).toList();

        String written = plan instanceof WritePlan.Copy copy ? copy.target().qualifiedName() : table.qualifiedName();
        if (kind == SyncDefinition.Kind.LOG) {
            for (Column k : keyset.columns()) {
                if (k.name().equals("sluice_id") || k.name().equals("sluice_claim")) {
                    throw new SpecException("key", "column " + k.name() + " has the name of a column of Sluice's key log;"
                            + " sync: trigger cannot log this key");
                }
            }
        }
        refuseOtherJobs(target, schema, spec.name(), written, writes, plan instanceof WritePlan.Copy copy
                && copy.source() != null ? null : table.qualifiedName(), ordered);
        SyncNames names = SyncNames.of(schema, spec.name());
        String searchPath = searchPath(read);
        SyncDefinition definition = switch (kind) {
            case COMPUTE -> {
                Map<Column, String> set = new LinkedHashMap<>();
                spec.set().forEach((name, expr) -> set.put(table.column(name), expr));
                yield SyncDefinition.compute(spec.name(), names, keyset, set, spec.where(), ordered, searchPath);
            }
            case MIRROR -> {
                WritePlan.Copy copy = (WritePlan.Copy) plan;
                Map<Column, String> columns = new LinkedHashMap<>();
                spec.columns().forEach((name, expr) -> columns.put(copy.target().column(name), expr));
                yield SyncDefinition.mirror(spec.name(), names, keyset, copy.target(), columns, copy.conflict(),
                        Upsert.clause(columns.keySet(), copy.conflict()), spec.where(), ordered, searchPath);
            }
            case LOG -> SyncDefinition.log(spec.name(), names, keyset, plan instanceof WritePlan.Copy, written,
                    List.copyOf(writes), ordered);
        };
        findings.add(Finding.ok("sync", switch (kind) {
            case COMPUTE -> "trigger: the set expressions computed for every inserted row and every update of "
                    + String.join(", ", ordered);
            case MIRROR -> "trigger: inserts, updates (key changes too) and deletes mirrored into " + written;
            case LOG -> "trigger: keys of written rows logged in " + names.log() + (plan instanceof WritePlan.Copy
                    ? " (in the source database)" : "") + "; the runner re-applies them behind its checkpoint";
        } + ", installed before the first chunk with a stepped lock_timeout, kept until 'finish'"));
        findings.add(Finding.ok("sync cost", definition.cost() + writeRates(read, table)));
        if (kind == SyncDefinition.Kind.COMPUTE) {
            otherBeforeTriggers(read, table, definition).ifPresent(findings::add);
        }
        return definition;
    }

    /** The expressions of the spec, with the type each yields where it is written. */
    private static List<Expr> expressions(JobSpec spec, WritePlan plan) {
        List<Expr> out = new ArrayList<>();
        if (plan instanceof WritePlan.InPlace p) {
            spec.set().forEach((name, expr) -> out.add(new Expr("set." + name, expr, p.keyset().table().column(name).type())));
        } else if (plan instanceof WritePlan.Copy p) {
            spec.columns().forEach((name, expr) -> out.add(new Expr("columns." + name, expr, p.target().column(name).type())));
        }
        if (spec.where() != null) {
            out.add(new Expr("where", spec.where(), "boolean"));
        }
        return out;
    }

    /**
     * What each expression reads, and (when a trigger evaluates them) that each is immutable and reads only the row.
     *
     * @param evaluatedByTrigger whether the trigger itself evaluates the expressions (in place, mirror)
     */
    private static Map<Expr, Reads> probe(Connection c, Table table, List<Expr> exprs, boolean evaluatedByTrigger)
            throws SQLException {
        Map<Expr, Reads> out = new LinkedHashMap<>();
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            // A view takes the table's weakest lock; the probe never waits long for it, nor runs long.
            st.execute("SET LOCAL lock_timeout = '2s'");
            st.execute("SET LOCAL statement_timeout = '30s'");
            int i = 0;
            for (Expr e : exprs) {
                String view = "sluice_probe_" + i++;
                st.execute("CREATE TEMP VIEW " + view + " AS SELECT (" + e.sql() + "\n) AS v FROM " + table.qualifiedName());
                out.put(e, reads(c, view, table));
            }
            if (evaluatedByTrigger) {
                // The copy takes the table's name, so that expressions qualifying columns with it still resolve.
                st.execute("CREATE TEMP TABLE " + Sql.quote(table.name()) + " (LIKE " + table.qualifiedName() + ")");
                String copy = "pg_temp." + Sql.quote(table.name());
                i = 0;
                for (Expr e : exprs) {
                    try {
                        st.execute("ALTER TABLE " + copy + " ADD COLUMN sluice_probe_" + i++ + " " + e.type()
                                + " GENERATED ALWAYS AS ((" + e.sql() + "\n)) STORED");
                    } catch (SQLException failed) {
                        throw new SpecException(e.field(), "with sync: trigger, " + why(failed));
                    }
                }
            }
        } finally {
            try {
                c.rollback();
                c.setAutoCommit(autoCommit);
            } catch (SQLException e) {
                if (!c.isClosed()) {
                    throw e;
                } // a pool that closes connections on some server errors took it, and its transaction with it
            }
        }
        return out;
    }

    private static String why(SQLException e) {
        String message = e.getMessage() == null ? "" : e.getMessage().replaceFirst("^ERROR: ", "");
        int nl = message.indexOf('\n');
        message = nl < 0 ? message : message.substring(0, nl);
        if ("42P17".equals(e.getSQLState()) && message.contains("immutable")) {
            return "the expression must be IMMUTABLE (PostgreSQL: " + message + "): a trigger evaluates it at each"
                    + " write, and now(), random() or a STABLE function would give another value than the backfill did";
        }
        if ("0A000".equals(e.getSQLState()) || "42P17".equals(e.getSQLState())) {
            return "the expression may read only the row's own columns (PostgreSQL: " + message + ")";
        }
        return "a trigger cannot evaluate it: " + message;
    }

    private static Reads reads(Connection c, String view, Table table) throws SQLException {
        Set<String> columns = new LinkedHashSet<>();
        Set<String> others = new LinkedHashSet<>();
        boolean whole = false;
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT DISTINCT d.refobjid = ? AS own, d.refobjsubid, a.attname, d.refobjid::regclass::text
                FROM pg_depend d
                JOIN pg_rewrite r ON r.oid = d.objid
                LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                WHERE d.classid = 'pg_rewrite'::regclass AND r.ev_class = to_regclass(?)
                  AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.ev_class""")) {
            ps.setLong(1, table.oid());
            ps.setString(2, "pg_temp." + view);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (!rs.getBoolean(1)) {
                        others.add(rs.getString(4));
                    } else if (rs.getInt(2) == 0) {
                        whole = true;
                    } else {
                        columns.add(rs.getString(3));
                    }
                }
            }
        }
        return new Reads(columns, others, whole);
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
     * over them), or whose trigger would read columns another job's trigger writes in the same table (a change a
     * trigger makes does not fire another's UPDATE OF, so this one would miss it).
     *
     * @param table the table this job's trigger is on, when it is in the target database; else null
     */
    private static void refuseOtherJobs(Connection target, String schema, String job, String written, Set<String> writes,
                                        String table, List<String> watched) throws SQLException {
        try (PreparedStatement exists = target.prepareStatement("SELECT to_regclass(?)")) {
            exists.setString(1, Sql.quote(schema) + ".sync_triggers");
            try (ResultSet rs = exists.executeQuery()) {
                if (!rs.next() || rs.getString(1) == null) {
                    return;
                }
            }
        }
        String others = "SELECT job, targets FROM " + Sql.quote(schema) + ".sync_triggers WHERE written = ? AND job <> ?"
                + " AND dropped_at IS NULL AND targets && ?::text[] ORDER BY job LIMIT 1";
        try (PreparedStatement ps = target.prepareStatement(others)) {
            ps.setString(1, written);
            ps.setString(2, job);
            ps.setArray(3, target.createArrayOf("text", writes.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    throw new SpecException("sync", written + " already has the sync trigger of job " + rs.getString(1)
                            + " on " + String.join(", ", (String[]) rs.getArray(2).getArray()) + ": two triggers would"
                            + " fight over the same columns; finish " + rs.getString(1) + " first");
                }
            }
        }
        if (table == null) {
            return;
        }
        try (PreparedStatement ps = target.prepareStatement(others)) {
            ps.setString(1, table);
            ps.setString(2, job);
            ps.setArray(3, target.createArrayOf("text", watched.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    throw new SpecException("sync", "the trigger would read " + String.join(", ", (String[]) rs.getArray(2)
                            .getArray()) + ", which the sync trigger of job " + rs.getString(1) + " writes: a change one"
                            + " trigger makes does not fire another, so rows would go out of step; finish "
                            + rs.getString(1) + " first");
                }
            }
        }
    }

    /**
     * Other BEFORE ROW triggers on the table: PostgreSQL fires them in name order, and one that fires after Sluice's
     * and changes a column the expressions read leaves written rows out of step.
     */
    private static java.util.Optional<Finding> otherBeforeTriggers(Connection c, Table table, SyncDefinition sync)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT string_agg(tgname, ', ' ORDER BY tgname) FROM pg_trigger"
                + " WHERE tgrelid = ? AND NOT tgisinternal AND tgtype & 3 = 3 AND tgname <> ALL (?)")) {
            ps.setLong(1, table.oid());
            ps.setArray(2, c.createArrayOf("text", sync.triggers().toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                String names = rs.getString(1);
                return names == null ? java.util.Optional.empty() : java.util.Optional.of(Finding.warn("sync",
                        "other BEFORE ROW triggers on " + table.qualifiedName() + ": " + names + ". PostgreSQL fires them"
                                + " in name order, Sluice's as " + sync.triggers().get(0) + "; one that fires after it and"
                                + " changes " + String.join(", ", sync.watched()) + " leaves written rows out of step"));
            }
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
                return String.format(java.util.Locale.ROOT, "; the table has had %,d inserts, %,d updates, %,d deletes"
                        + " since statistics were reset%s", rs.getLong(1), rs.getLong(2), rs.getLong(3),
                        rs.getString(4) == null ? "" : " (" + rs.getString(4) + ")");
            }
        }
    }
}
