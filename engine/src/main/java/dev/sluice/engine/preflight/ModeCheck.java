package dev.sluice.engine.preflight;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import dev.sluice.engine.Finding;
import dev.sluice.engine.chunk.Journal;
import dev.sluice.engine.chunk.WritePlan;
import dev.sluice.engine.keyset.Catalog;
import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Keyset;
import dev.sluice.engine.keyset.Table;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.SqlFragments;
import dev.sluice.engine.spi.Transformer;

/**
 * Checks what a job writes, for its mode (in place, copy into another table, or Java), and resolves it into a
 * {@link WritePlan}; the writer is made from the plan, not here.
 */
final class ModeCheck {

    private ModeCheck() {}

    /**
     * @param c      the target database (in a transaction that will be rolled back)
     * @param read   where the table is: {@code c}, or the source database of a cross-database copy
     * @param source the source's DataSource for a cross-database copy, else null
     */
    static WritePlan check(
            Connection c,
            Connection read,
            JobSpec spec,
            Keyset keyset,
            Transformer.Catalog catalog,
            List<Finding> findings,
            DataSource source,
            String schema)
            throws SQLException {
        String where = spec.where() == null ? null : SqlFragments.forJdbc(spec.where());
        // The journal is written in the target, with the write: its SQL follows the target's server version.
        Journal journal =
                spec.undo() ? new Journal(schema, spec.name(), c.getMetaData().getDatabaseMajorVersion() >= 18) : null;
        return switch (spec.mode()) {
            case IN_PLACE -> {
                Map<Column, String> set = TargetColumnsCheck.resolve(keyset, spec.set(), "set");
                set.forEach(
                        (col, expr) -> findings.add(Finding.ok("set", col.name() + " (" + col.type() + ") = " + expr)));
                ExpressionCheck.check(c, keyset.table(), set);
                Map<Column, String> jdbc = new LinkedHashMap<>();
                set.forEach((col, expr) -> jdbc.put(col, SqlFragments.forJdbc(expr)));
                findings.add(Finding.ok("mode", "in-place: one UPDATE per chunk"));
                yield new WritePlan.InPlace(keyset, jdbc, where, journal);
            }
            case COPY -> copy(c, read, spec, keyset, where, findings, source, journal);
            case JAVA -> java(spec, keyset, catalog, findings, where, journal);
        };
    }

    private static WritePlan copy(
            Connection c,
            Connection read,
            JobSpec spec,
            Keyset keyset,
            String where,
            List<Finding> findings,
            DataSource source,
            Journal journal)
            throws SQLException {
        Table target = into(c, spec.into());
        Map<Column, String> columns = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : spec.columns().entrySet()) {
            Column col = target.column(e.getKey());
            if (col == null) {
                throw new SpecException(
                        "columns." + e.getKey(), "no column '" + e.getKey() + "' in " + target.qualifiedName());
            }
            columns.put(col, e.getValue());
        }
        List<Column> conflict = new ArrayList<>();
        for (Column k : keyset.columns()) {
            Column receiving = columns.entrySet().stream()
                    .filter(e -> e.getValue().trim().replace("\"", "").equalsIgnoreCase(k.name()))
                    .map(Map.Entry::getKey)
                    .findFirst()
                    .orElseThrow(() -> new SpecException(
                            "columns",
                            "no target column receives key column '" + k.name() + "' (map it, e.g. " + k.name() + ": "
                                    + k.name() + ")"));
            conflict.add(receiving);
        }
        List<String> names = conflict.stream().map(Column::name).sorted().toList();
        boolean unique = target.uniqueIndexes().stream()
                .anyMatch(i -> i.usable()
                        && !i.partial()
                        && i.columns().stream().sorted().toList().equals(names));
        if (!unique) {
            throw new SpecException(
                    "into",
                    target.qualifiedName() + " has no unique index on ("
                            + String.join(
                                    ", ", conflict.stream().map(Column::name).toList())
                            + "); copying needs one for ON CONFLICT");
        }
        if (source == null) {
            ExpressionCheck.checkCopy(c, keyset.table(), target, columns);
        } else {
            ExpressionCheck.checkCrossCopy(read, c, keyset.table(), columns);
        }
        Map<Column, String> jdbc = new LinkedHashMap<>();
        columns.forEach((col, expr) -> jdbc.put(col, SqlFragments.forJdbc(expr)));
        if (source != null) {
            findings.add(Finding.ok(
                    "mode",
                    "copy from the source into " + target.qualifiedName() + ": read the range"
                            + " there, INSERT ... FROM unnest(...) ON CONFLICT DO UPDATE here, per chunk"));
            return new WritePlan.Copy(keyset, target, jdbc, conflict, where, source, false, journal);
        }
        findings.add(Finding.ok(
                "mode",
                "copy into " + target.qualifiedName() + ": INSERT ... SELECT ... ON CONFLICT ("
                        + String.join(", ", conflict.stream().map(Column::name).toList()) + ") DO UPDATE per chunk"));
        columns.forEach(
                (col, expr) -> findings.add(Finding.ok("columns", col.name() + " (" + col.type() + ") = " + expr)));
        return new WritePlan.Copy(
                keyset, target, jdbc, conflict, where, null, spec.sync() == JobSpec.Sync.TRIGGER, journal);
    }

    private static Table into(Connection c, String name) throws SQLException {
        try {
            return Catalog.table(c, name);
        } catch (SpecException e) {
            throw new SpecException("into", e.getMessage().replaceFirst("^table: ", ""));
        }
    }

    private static WritePlan java(
            JobSpec spec,
            Keyset keyset,
            Transformer.Catalog catalog,
            List<Finding> findings,
            String where,
            Journal journal) {
        TransformerCheck.Resolved t = TransformerCheck.resolve(spec.transformer(), keyset, catalog, findings);
        return new WritePlan.Java(keyset, t.transformer(), t.reads(), t.writes(), where, journal);
    }
}
