package dev.sluice.engine.preflight;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import dev.sluice.engine.Finding;
import dev.sluice.engine.KeyRange;
import dev.sluice.engine.Plan;
import dev.sluice.engine.chunk.ChunkWriter;
import dev.sluice.engine.chunk.WritePlan;
import dev.sluice.engine.keyset.Catalog;
import dev.sluice.engine.keyset.Chunker;
import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Keyset;
import dev.sluice.engine.keyset.Table;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SqlFragments;
import dev.sluice.engine.spi.Transformer;
import dev.sluice.engine.sync.SyncDefinition;
import dev.sluice.engine.validate.CopyComparison;
import dev.sluice.engine.validate.RangeCheck;
import dev.sluice.engine.validate.Recomputation;

/**
 * Checks a spec against the database before anything is written, and prepares what the runner needs. Every
 * failure is a {@link dev.sluice.engine.spec.SpecException} naming the field; warnings are findings. Runs in a
 * transaction that is always rolled back, and only plans statements (EXPLAIN without ANALYZE).
 */
public final class Preflight {

    /** Sluice's schema in the target database unless the caller names another. */
    public static final String DEFAULT_SCHEMA = "sluice";

    private static final Pattern PLAN_ROWS = Pattern.compile("rows=(\\d+)");

    private Preflight() {}

    public static Prepared check(Connection c, JobSpec spec) throws SQLException {
        return check(c, spec, Transformer.Catalog.EMPTY);
    }

    /** @param catalog where {@code transformer:} names are looked up */
    public static Prepared check(Connection c, JobSpec spec, Transformer.Catalog catalog) throws SQLException {
        return check(c, spec, catalog, null, DEFAULT_SCHEMA);
    }

    /**
     * @param source the source database of a cross-database copy ({@code source.jdbc-url}), or null when the
     *               table is in the target database
     * @param schema Sluice's schema in the target database (where a sync trigger's function goes)
     */
    public static Prepared check(
            Connection c, JobSpec spec, Transformer.Catalog catalog, DataSource source, String schema)
            throws SQLException {
        return check(c, spec, catalog, source, schema, false);
    }

    /**
     * @param strictContract refuse a contract step whose column something still uses ({@code plan}); else warn
     */
    public static Prepared check(
            Connection c,
            JobSpec spec,
            Transformer.Catalog catalog,
            DataSource source,
            String schema,
            boolean strictContract)
            throws SQLException {
        try (Connection read = source == null ? null : source.getConnection()) {
            Prepared prepared;
            try (ReadOnly target = ReadOnly.begin(c);
                    ReadOnly sourceSide = read == null ? null : ReadOnly.begin(read)) {
                prepared = checkInTransaction(c, read == null ? c : read, spec, catalog, source, schema);
                target.verify();
                if (sourceSide != null) {
                    sourceSide.verify();
                }
            }
            // These probes create temporary objects, each in a transaction of its own that is always rolled back.
            if (spec.health().query() != null) {
                VolatileCheck.refuse(
                        c, "health.query.sql", spec.health().query().sql());
            }
            List<Finding> findings = new ArrayList<>(prepared.findings());
            SyncDefinition sync = SyncCheck.check(c, read == null ? c : read, spec, prepared.plan(), schema, findings);
            List<Plan.Statement> statements = new ArrayList<>(prepared.statements());
            if (sync == null) {
                findings.addAll(TriggerCheck.withoutSync(read == null ? c : read, c, prepared.plan(), schema));
            } else {
                statements.add(new Plan.Statement(
                        "sync trigger (installed before the first chunk)",
                        String.join(";\n", sync.install()),
                        List.of()));
            }
            ContractCheck.Checked contract = ContractCheck.check(c, spec, schema, strictContract);
            if (!contract.statements().isEmpty()) {
                findings.add(Finding.ok(
                        "contract",
                        contract.statements().size()
                                + " step(s) run by 'finish', each checked on a copy of the table's columns"));
                findings.addAll(contract.findings());
                statements.addAll(contract.statements());
            }
            return prepared.withSync(sync, findings, statements);
        }
    }

    private static Prepared checkInTransaction(
            Connection c, Connection read, JobSpec spec, Transformer.Catalog catalog, DataSource source, String schema)
            throws SQLException {
        List<Finding> findings = new ArrayList<>();
        findings.add(ServerVersion.check(c, "", spec.undo()));
        if (source != null) {
            findings.add(ServerVersion.check(read, "source.jdbc-url", false));
        }
        Table table = Catalog.table(read, spec.table());
        if (source != null) {
            findings.add(Finding.ok(
                    "source",
                    "rows come from " + spec.source().jdbcUrl() + "; chunks and checkpoints"
                            + " commit in the target"));
        }
        findings.add(Finding.ok(
                "table", table.qualifiedName() + " (" + table.columns().size() + " columns)"));
        // The key is walked in the source (of a copy) and its ranges compared in the target too: the older server
        // rules.
        Keyset keyset = Keyset.resolve(table, spec.key())
                .forServer(Math.min(
                        read.getMetaData().getDatabaseMajorVersion(),
                        c.getMetaData().getDatabaseMajorVersion()));
        ExpressionCheck.where(read, table, spec.where());
        findings.add(Finding.ok(
                "key",
                "["
                        + String.join(
                                ", ",
                                keyset.columns().stream().map(Column::name).toList())
                        + "] NOT NULL, ordered by unique index "
                        + keyset.index().name()
                        + (keyset.index().primary() ? " (primary key)" : "")));
        WritePlan plan = ModeCheck.check(c, read, spec, keyset, catalog, findings, source, schema);
        ExpressionCheck.checkRules(read, table, spec.validate());
        findings.addAll(HealthAccess.check(c, spec.health()));
        findings.addAll(HealthAccess.services(spec.health()));
        String signal = ExpressionCheck.healthQuery(c, spec.health());
        if (signal != null) {
            findings.add(Finding.ok("health", "health.query returns " + signal + " and calls no volatile function"));
        }
        findings.add(Finding.ok("types", "every expression type-checks"));
        if (!spec.validate().isEmpty()) {
            findings.add(Finding.ok(
                    "validate",
                    spec.validate().size() + " rule(s)"
                            + (spec.validateAfterRun()
                                    ? ", run after the last chunk"
                                    : ", run by 'sluice validate' only (validate-after-run: false)")));
        }
        String where = spec.where() == null ? null : SqlFragments.forJdbc(spec.where());
        Chunker chunker = new Chunker(keyset);
        ChunkWriter writer = plan.writer();
        // Plans are read from the write without its journal entry (the journal's table may not exist yet).
        ChunkWriter planned = plan.unjournaled().writer();

        long estimated = rowCount(read, table);
        long matching = where == null
                ? estimated
                : estimate(read, "SELECT 1 FROM " + table.qualifiedName() + " WHERE (" + where + ")");
        int rows = spec.chunk().rows();
        findings.add(Finding.ok(
                "estimate",
                String.format(
                        Locale.ROOT,
                        "~%,d rows%s, ~%,d chunks of %,d rows",
                        estimated,
                        where == null ? "" : String.format(Locale.ROOT, " (~%,d matching where)", matching),
                        (estimated + rows - 1) / rows,
                        rows)));

        findings.add(UndoEstimate.of(c, plan, matching));
        if (plan.journal() != null && spec.sync() == JobSpec.Sync.TRIGGER) {
            findings.add(
                    plan instanceof WritePlan.Copy copy && copy.source() == null
                            ? Finding.warn(
                                    "undo",
                                    "the mirror trigger's own writes are not journaled: a row the application"
                                            + " writes into the source is mirrored into the target, and a rollback leaves what the mirror"
                                            + " wrote there")
                            : Finding.ok(
                                    "undo",
                                    "the sync trigger's writes are journaled too (in place: each row it computes;"
                                            + " Java and cross-database: the drain's writes): a rollback restores them with the chunks'"));
        }
        List<Plan.Statement> statements = new ArrayList<>();
        KeyRange first = chunker.next(read, null, rows);
        if (first == null) {
            findings.add(Finding.ok("index use", "the table is empty: nothing to plan"));
            statements.add(new Plan.Statement("find chunk", chunker.sql(false), List.of()));
            statements.add(new Plan.Statement("write chunk", writer.sql(Keyset.AFTER), List.of()));
        } else {
            // Plan the statements as a typical chunk runs them: bounded on both sides, real key values.
            KeyRange second = chunker.next(read, first.hi(), rows);
            KeyRange probe = second != null ? second : first;
            String write = planned.explainable(keyset.shape(probe));
            OneStatement.check(read, writtenBy(spec), write, keyset.parameterCount(keyset.shape(probe)));
            List<String> findPlan = explain(read, chunker.sql(false), ps -> chunker.bind(ps, first.hi(), rows));
            List<String> writePlan = explain(read, write, ps -> keyset.bind(ps, 1, probe));
            statements.add(new Plan.Statement("find chunk", chunker.sql(false), findPlan));
            statements.add(new Plan.Statement("write chunk", writer.sql(keyset.shape(probe)), writePlan));
            findings.add(indexUse(keyset, "find chunk", findPlan));
            findings.add(indexUse(keyset, "write chunk", writePlan));
        }
        RangeCheck ownCheck = ownCheck(spec, plan, findings);
        return new Prepared(
                spec,
                keyset,
                plan.targets(),
                chunker,
                writer,
                estimated,
                matching,
                List.copyOf(findings),
                List.copyOf(statements),
                ownCheck,
                source,
                plan,
                null);
    }

    /**
     * The check the job brings: a copy compares each target row with its source row; a Java transformer that declares
     * a check of its own is run again over each row and compared with what the row holds. Other jobs have the spec's
     * rules only.
     */
    private static RangeCheck ownCheck(JobSpec spec, WritePlan plan, List<Finding> findings) {
        if (plan instanceof WritePlan.Copy copy) {
            return new CopyComparison(
                    copy.keyset(), copy.target(), copy.columns(), copy.conflict(), copy.where(), copy.source());
        }
        if (plan instanceof WritePlan.Java java && java.transformer().check() == Transformer.Check.RECOMPUTE) {
            if (spec.validate().isEmpty()) {
                findings.add(Finding.ok(
                        "validate",
                        "no rules: the transformer's own check, each row transformed again"
                                + " and compared with its "
                                + java.targets().stream().map(Column::name).toList()
                                + (spec.validateAfterRun()
                                        ? ", run after the last chunk"
                                        : ", run by 'sluice validate' only")));
            }
            return new Recomputation(java.keyset(), java.transformer(), java.reads(), java.targets());
        }
        return null;
    }

    /** The spec field whose SQL the write statement carries, for a message about it. */
    private static String writtenBy(JobSpec spec) {
        return switch (spec.mode()) {
            case IN_PLACE -> "set";
            case COPY -> "columns";
            case JAVA -> "where";
        };
    }

    private static Finding indexUse(Keyset keyset, String purpose, List<String> plan) {
        String index = keyset.index().name();
        boolean used = plan.stream().anyMatch(line -> line.contains(" " + index + " ") || line.endsWith(" " + index));
        return used
                ? Finding.ok("index use", purpose + " uses " + index)
                : Finding.warn(
                        "index use",
                        purpose + " does not use " + index + " (small table, or stale statistics?"
                                + " run ANALYZE); see its plan below");
    }

    /**
     * The table's rows as the last VACUUM or ANALYZE counted them (pg_class.reltuples), which autovacuum keeps
     * current; the planner's estimate only when the table was never analyzed. The planner scales reltuples by
     * the table's current size, which a backfill's own dead row versions inflate up to twice.
     */
    private static long rowCount(Connection c, Table table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT reltuples::bigint FROM pg_class WHERE oid = ?")) {
            ps.setLong(1, table.oid());
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next() && rs.getLong(1) > 0) {
                    return rs.getLong(1);
                }
            }
        }
        return estimate(c, "SELECT 1 FROM " + table.qualifiedName());
    }

    private static long estimate(Connection c, String query) throws SQLException {
        List<String> plan = explain(c, query, ps -> {});
        Matcher m = PLAN_ROWS.matcher(plan.isEmpty() ? "" : plan.get(0));
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    private static List<String> explain(Connection c, String sql, Binder binder) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("EXPLAIN " + sql)) {
            binder.bind(ps);
            List<String> lines = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    lines.add(rs.getString(1));
                }
            }
            return lines;
        }
    }
}
