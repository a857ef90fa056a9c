package dev.sluice.engine.preflight;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import dev.sluice.engine.Finding;
import dev.sluice.engine.Plan;
import dev.sluice.engine.contract.ContractSteps;
import dev.sluice.engine.contract.Ledger;
import dev.sluice.engine.keyset.Catalog;
import dev.sluice.engine.keyset.Sql;
import dev.sluice.engine.keyset.Table;
import dev.sluice.engine.spec.ContractStep;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.SqlFragments;
import dev.sluice.engine.sync.SyncNames;

/**
 * Checks a job's contract steps against the catalog before anything runs, and says what each will do. PostgreSQL
 * decides: every step is run, in order, on an empty temporary copy of the table (its columns, types and NOT NULLs;
 * a copy of a referenced table with its unique indexes), in a transaction that is always rolled back, so a column
 * that is not there, an expression that is not one boolean expression over the row, an index expression that is not
 * IMMUTABLE, a foreign key whose referenced columns are not unique, or a name taken by an earlier step is refused
 * with the server's own words, naming the step ({@code contract[2].index}). On the table itself: a name an object
 * already has and this job did not make, and what still depends on a column to be dropped (views, indexes,
 * constraints, triggers, functions, policies), are refused too. Steps the job's record holds as done are not checked
 * again: their effect is in the catalog.
 */
public final class ContractCheck {

    private static final String PROBE = "sluice_contract_probe";
    // Rough sequential read rate for the estimate of a scan's duration: a modest disk, a busy server.
    private static final double BYTES_PER_SECOND = 200e6;

    private ContractCheck() {}

    /**
     * What the check found: each step's statements, locks and scan, for {@code plan}; and, where it was not asked to
     * be strict, what still uses a column a step will drop (a warning: the application may read it until finish).
     */
    public record Checked(List<Plan.Statement> statements, List<Finding> findings) {}

    /**
     * @param strict refuse what still uses a column a step drops ({@code plan}, {@code finish}); else warn about it
     *               (a run, whose application may go on reading the column until the contract step)
     * @throws SpecException naming the step that cannot run lock-safe on this table
     */
    public static Checked check(Connection c, JobSpec spec, String schema, boolean strict) throws SQLException {
        List<ContractStep> steps = spec.contract();
        Ledger ledger = new Ledger(schema);
        Map<Integer, Ledger.Entry> done = ledger.read(c, spec.name());
        Optional<String> unknown = ContractSteps.beyond(done, steps.size());
        if (unknown.isPresent()) {
            throw new SpecException("contract", unknown.get());
        }
        if (steps.isEmpty()) {
            return new Checked(List.of(), List.of());
        }
        List<Finding> findings = new ArrayList<>();
        Table table = Catalog.table(c, spec.contractTable());
        // What rollback can still undo, as plan says it: the steps done, until a purge.
        String undo = done.isEmpty()
                ? null
                : !spec.undo()
                        ? "undo: false: no rollback undoes it"
                        : ledger.purged(c, spec.name())
                                ? "purged ('finish --purge'): rollback can no longer undo it"
                                : "'rollback " + spec.name() + "' undoes it (until 'finish --purge')";
        Size size = size(c, table);
        List<Plan.Statement> out = new ArrayList<>();
        try (ProbeTransaction probe = ProbeTransaction.begin(c)) {
            probe.execute("CREATE TEMPORARY TABLE " + PROBE + " (LIKE " + table.qualifiedName() + ")");
            for (int i = 0; i < steps.size(); i++) {
                ContractStep step = steps.get(i);
                String field = ContractSteps.field(i, step);
                Ledger.Entry entry = done.get(i);
                boolean ours = entry != null && entry.state() != Ledger.State.REVERSED;
                if (ours && !entry.definition().equals(ContractSteps.definition(step))) {
                    throw new SpecException(
                            field, "was begun as " + entry.definition() + "; the spec now says otherwise");
                }
                if (ours && entry.state() == Ledger.State.DONE) {
                    out.add(new Plan.Statement(field + " (done)", "", List.of("done at " + entry.doneAt(), undo)));
                    continue;
                }
                if (!ours) {
                    nameFree(c, table, field, step);
                    if (step.kind() == ContractStep.Kind.DROP_COLUMNS) {
                        for (String column : step.dropColumns()) {
                            List<String> dependents = dependents(c, table, column, spec.name(), schema);
                            if (dependents.isEmpty()) {
                                continue;
                            }
                            String used = "'" + column + "' is still used by " + String.join(", ", dependents)
                                    + ": drop or change them before finish (the application must have stopped using"
                                    + " it too)";
                            if (strict) {
                                throw new SpecException(field, used);
                            }
                            findings.add(Finding.warn(field, used));
                        }
                    }
                }
                partitioned(c, table, field, step);
                probe(c, probe, table, field, step, i, ours);
                out.add(describe(field, step, table, size, spec));
            }
        }
        return new Checked(out, findings);
    }

    /**
     * What the probe (a plain table) cannot show of a partitioned one: PostgreSQL builds no index concurrently on it,
     * and adds no foreign key NOT VALID to it before 18.
     */
    private static void partitioned(Connection c, Table table, String field, ContractStep step) throws SQLException {
        if (step.kind() != ContractStep.Kind.INDEX && step.kind() != ContractStep.Kind.FOREIGN_KEY) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT relkind = 'p' FROM pg_class WHERE oid = ?")) {
            ps.setLong(1, table.oid());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || !rs.getBoolean(1)) {
                    return;
                }
            }
        }
        if (step.kind() == ContractStep.Kind.INDEX) {
            throw new SpecException(
                    field,
                    table.qualifiedName() + " is partitioned: PostgreSQL builds no index CONCURRENTLY on it, so the"
                            + " step cannot be lock-safe (build it on each partition, then attach)");
        }
        if (c.getMetaData().getDatabaseMajorVersion() < 18) {
            throw new SpecException(
                    field,
                    table.qualifiedName() + " is partitioned: before PostgreSQL 18 a foreign key on it cannot be"
                            + " added NOT VALID, so the step cannot be lock-safe");
        }
    }

    /** Runs the step on the probe table, as finish will on the table; the server's refusal names the step. */
    private static void probe(
            Connection c, ProbeTransaction probe, Table table, String field, ContractStep step, int i, boolean started)
            throws SQLException {
        List<String> sql = new ArrayList<>();
        switch (step.kind()) {
            case NOT_NULL ->
                sql.add("ALTER TABLE " + PROBE + " ALTER COLUMN " + Sql.quote(step.notNull()) + " SET NOT NULL");
            case INDEX -> {
                ContractStep.Index index = step.index();
                sql.add("CREATE " + (index.unique() ? "UNIQUE " : "") + "INDEX ON " + PROBE + " ("
                        + (index.expression() != null
                                ? "(" + SqlFragments.forJdbc(index.expression()) + ")"
                                : quoted(index.columns()))
                        + ")"
                        + (index.include().isEmpty() ? "" : " INCLUDE (" + quoted(index.include()) + ")")
                        + (index.where() == null ? "" : " WHERE (" + SqlFragments.forJdbc(index.where()) + ")"));
            }
            case CHECK ->
                sql.add("ALTER TABLE " + PROBE + " ADD CHECK ("
                        + SqlFragments.forJdbc(step.check().expression()) + ")");
            case FOREIGN_KEY -> {
                ContractStep.ForeignKey fk = step.foreignKey();
                Table referenced;
                try {
                    referenced = Catalog.table(c, fk.referencedTable());
                } catch (SpecException e) {
                    throw new SpecException(
                            field + ".references", e.getMessage().replaceFirst("^table: ", ""));
                }
                String copy = PROBE + "_ref" + i;
                sql.add("CREATE TEMPORARY TABLE " + copy + " (LIKE " + referenced.qualifiedName()
                        + " INCLUDING INDEXES)");
                sql.add("ALTER TABLE " + PROBE + " ADD FOREIGN KEY (" + quoted(fk.columns()) + ") REFERENCES " + copy
                        + " (" + quoted(fk.referencedColumns()) + ")"
                        + (fk.onDelete() == null
                                ? ""
                                : " ON DELETE " + fk.onDelete().strip().toUpperCase(Locale.ROOT)));
            }
            case DROP_COLUMNS -> {
                for (String column : step.dropColumns()) {
                    if (!started || probeHas(c, column)) {
                        sql.add("ALTER TABLE " + PROBE + " RENAME COLUMN " + Sql.quote(column) + " TO "
                                + Sql.quote("sluice set aside " + i + " " + column));
                    }
                }
            }
            case RENAME_COLUMN -> {
                if (!started || probeHas(c, step.renameColumn().from())) {
                    sql.add("ALTER TABLE " + PROBE + " RENAME COLUMN "
                            + Sql.quote(step.renameColumn().from()) + " TO "
                            + Sql.quote(step.renameColumn().to()));
                }
            }
        }
        for (String statement : sql) {
            OneStatement.check(c, field, statement, 0);
            Savepoint sp = c.setSavepoint();
            try {
                probe.execute(statement);
                c.releaseSavepoint(sp);
            } catch (SQLException e) {
                c.rollback(sp);
                String state = e.getSQLState() == null ? "" : e.getSQLState();
                if (state.startsWith("42")
                        || state.startsWith("22")
                        || state.startsWith("0A")
                        || state.startsWith("23")
                        || state.startsWith("2B")) {
                    throw new SpecException(
                            field,
                            ServerMessages.of(e)
                                    .replace("\"" + PROBE + "\"", table.qualifiedName())
                                    .replace(PROBE, table.qualifiedName()));
                }
                throw e;
            }
        }
    }

    private static boolean probeHas(Connection c, String column) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(?)"
                + " AND attname = ? AND attnum > 0 AND NOT attisdropped")) {
            ps.setString(1, "pg_temp." + PROBE);
            ps.setString(2, column);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** An index, or a constraint, of the step's name that this job did not make is refused: it is not ours to own. */
    private static void nameFree(Connection c, Table table, String field, ContractStep step) throws SQLException {
        switch (step.kind()) {
            case INDEX -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT c.relkind FROM pg_class c JOIN pg_class t ON"
                        + " t.relnamespace = c.relnamespace WHERE t.oid = ? AND c.relname = ?")) {
                    ps.setLong(1, table.oid());
                    ps.setString(2, step.index().name());
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next()) {
                            throw new SpecException(
                                    field + ".name",
                                    "'" + step.index().name()
                                            + "' is taken in the table's schema (by a relation of kind "
                                            + rs.getString(1) + " this job did not make): choose another name");
                        }
                    }
                }
            }
            case CHECK, FOREIGN_KEY -> {
                String name = step.kind() == ContractStep.Kind.CHECK
                        ? step.check().name()
                        : step.foreignKey().name();
                try (PreparedStatement ps =
                        c.prepareStatement("SELECT 1 FROM pg_constraint WHERE conrelid = ? AND conname = ?")) {
                    ps.setLong(1, table.oid());
                    ps.setString(2, name);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next()) {
                            throw new SpecException(
                                    field + ".name",
                                    "'" + name + "' is a constraint of " + table.qualifiedName()
                                            + " already, not made by this job: choose another name");
                        }
                    }
                }
            }
            default -> {}
        }
    }

    // What depends on a column, described by PostgreSQL; leaves out the column's own default and NOT NULL (PG 18
    // records it as a constraint) and the job's own sync triggers.
    private static final String DEPENDENTS = """
            SELECT DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid)
            FROM pg_depend d
            JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
            LEFT JOIN pg_constraint k ON d.classid = 'pg_constraint'::regclass AND k.oid = d.objid
            LEFT JOIN pg_trigger g ON d.classid = 'pg_trigger'::regclass AND g.oid = d.objid
            WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = ? AND a.attname = ?
              AND d.classid <> 'pg_attrdef'::regclass AND coalesce(k.contype, '') <> 'n'
              AND coalesce(g.tgname, '') NOT LIKE ? AND coalesce(g.tgname, '') NOT LIKE ?
            UNION
            SELECT DISTINCT 'foreign key ' || k.conname || ' of ' || k.conrelid::regclass
            FROM pg_constraint k JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = ANY (k.confkey)
            WHERE k.confrelid = ? AND a.attname = ?
            ORDER BY 1""";

    private static List<String> dependents(Connection c, Table table, String column, String job, String schema)
            throws SQLException {
        SyncNames names = SyncNames.of(schema, job);
        String own = names.trigger("") + "%";
        String ownLast = "~" + names.trigger("") + "%";
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(DEPENDENTS)) {
            ps.setLong(1, table.oid());
            ps.setString(2, column);
            ps.setString(3, own);
            ps.setString(4, ownLast);
            ps.setLong(5, table.oid());
            ps.setString(6, column);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        // A trigger's function names columns in its body, which PostgreSQL does not track: read for the name as a word.
        Pattern word = Pattern.compile("(?<![\\w$])" + Pattern.quote(column) + "(?![\\w$])", Pattern.CASE_INSENSITIVE);
        try (PreparedStatement ps = c.prepareStatement("SELECT g.tgname, p.proname, p.prosrc FROM pg_trigger g JOIN"
                + " pg_proc p ON p.oid = g.tgfoid WHERE g.tgrelid = ? AND NOT g.tgisinternal AND g.tgname NOT LIKE ?"
                + " AND g.tgname NOT LIKE ? ORDER BY 1")) {
            ps.setLong(1, table.oid());
            ps.setString(2, own);
            ps.setString(3, ownLast);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (rs.getString(3) != null && word.matcher(rs.getString(3)).find()) {
                        out.add("trigger " + rs.getString(1) + " (its function " + rs.getString(2) + " names it)");
                    }
                }
            }
        }
        return out;
    }

    private record Size(long rows, long bytes) {}

    private static Size size(Connection c, Table table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT greatest(reltuples, 0)::bigint, pg_table_size(oid) FROM pg_class WHERE oid = ?")) {
            ps.setLong(1, table.oid());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new Size(rs.getLong(1), rs.getLong(2));
            }
        }
    }

    /** What {@code plan} shows of a step: its statements, the locks they take, what its scan reads. */
    private static Plan.Statement describe(String field, ContractStep step, Table table, Size size, JobSpec spec) {
        String t = table.qualifiedName();
        String lock = "lock_timeout from 100 ms up to " + spec.timeouts().lock().toMillis() + " ms, retried";
        String scan = String.format(
                Locale.ROOT,
                "scans ~%,d rows (%s, ~%.0f s at 200 MB/s) under SHARE UPDATE EXCLUSIVE: reads and writes go on",
                size.rows(),
                bytes(size.bytes()),
                Math.ceil(size.bytes() / BYTES_PER_SECOND));
        return switch (step.kind()) {
            case NOT_NULL ->
                new Plan.Statement(
                        field,
                        String.join(
                                ";\n",
                                "ALTER TABLE " + t + " ADD CONSTRAINT <check> CHECK (" + Sql.quote(step.notNull())
                                        + " IS NOT NULL) NOT VALID",
                                "ALTER TABLE " + t + " VALIDATE CONSTRAINT <check>",
                                "ALTER TABLE " + t + " ALTER COLUMN " + Sql.quote(step.notNull()) + " SET NOT NULL",
                                "ALTER TABLE " + t + " DROP CONSTRAINT <check>"),
                        List.of(
                                "ACCESS EXCLUSIVE for three catalog changes, each " + lock,
                                "VALIDATE " + scan,
                                "SET NOT NULL reads nothing: the validated check proves it"));
            case INDEX -> {
                ContractStep.Index index = step.index();
                yield new Plan.Statement(
                        field,
                        "CREATE " + (index.unique() ? "UNIQUE " : "") + "INDEX CONCURRENTLY " + Sql.quote(index.name())
                                + " ON " + t + " ("
                                + (index.expression() != null
                                        ? "(" + index.expression() + ")"
                                        : quoted(index.columns()))
                                + ")" + (index.include().isEmpty() ? "" : " INCLUDE (" + quoted(index.include()) + ")")
                                + (index.where() == null ? "" : " WHERE (" + index.where() + ")"),
                        List.of(
                                "SHARE UPDATE EXCLUSIVE only: reads and writes go on; waits for transactions already"
                                        + " writing the table to end",
                                scan.replace(" under SHARE UPDATE EXCLUSIVE: reads and writes go on", "") + ", twice",
                                "an INVALID index of the name (a killed build) is dropped concurrently and built again"
                                        + (index.unique() ? "; duplicate keys stop it, named, nothing left" : "")));
            }
            case CHECK ->
                new Plan.Statement(
                        field,
                        "ALTER TABLE " + t + " ADD CONSTRAINT "
                                + Sql.quote(step.check().name()) + " CHECK ("
                                + step.check().expression() + ") NOT VALID;\nALTER TABLE " + t + " VALIDATE CONSTRAINT "
                                + Sql.quote(step.check().name()),
                        List.of("ACCESS EXCLUSIVE for the catalog change, " + lock, "VALIDATE " + scan));
            case FOREIGN_KEY ->
                new Plan.Statement(
                        field,
                        "ALTER TABLE " + t + " ADD CONSTRAINT "
                                + Sql.quote(step.foreignKey().name()) + " FOREIGN KEY ("
                                + quoted(step.foreignKey().columns()) + ") REFERENCES "
                                + step.foreignKey().references()
                                + " NOT VALID;\nALTER TABLE " + t + " VALIDATE CONSTRAINT "
                                + Sql.quote(step.foreignKey().name()),
                        List.of(
                                "SHARE ROW EXCLUSIVE on both tables for the catalog change, " + lock,
                                "VALIDATE " + scan + " (ROW SHARE on the referenced table)"));
            case DROP_COLUMNS ->
                new Plan.Statement(
                        field,
                        step.dropColumns().stream()
                                .map(col -> "ALTER TABLE " + t + " RENAME COLUMN " + Sql.quote(col) + " TO <set aside>")
                                .collect(Collectors.joining(";\n")),
                        List.of(
                                "ACCESS EXCLUSIVE for one catalog change, " + lock + "; reads nothing",
                                "set aside (renamed, nullable) until 'finish --purge' drops them: rollback renames them"
                                        + " back"));
            case RENAME_COLUMN ->
                new Plan.Statement(
                        field,
                        "ALTER TABLE " + t + " RENAME COLUMN "
                                + Sql.quote(step.renameColumn().from()) + " TO "
                                + Sql.quote(step.renameColumn().to()),
                        List.of("ACCESS EXCLUSIVE for one catalog change, " + lock + "; reads nothing"));
        };
    }

    private static String quoted(List<String> names) {
        return names.stream().map(Sql::quote).collect(Collectors.joining(", "));
    }

    private static String bytes(long n) {
        return n < 1 << 20
                ? (n >> 10) + " kB"
                : n < 1L << 30 ? (n >> 20) + " MB" : String.format(Locale.ROOT, "%.1f GB", n / (double) (1L << 30));
    }
}
