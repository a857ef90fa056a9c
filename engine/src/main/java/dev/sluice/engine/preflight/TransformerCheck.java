package dev.sluice.engine.preflight;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import dev.sluice.engine.Finding;
import dev.sluice.engine.chunk.RenamedTransformer;
import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Keyset;
import dev.sluice.engine.keyset.Table;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.TransformerSpec;
import dev.sluice.engine.spi.TeamJars;
import dev.sluice.engine.spi.Transformer;

/**
 * Resolves {@code transformer: { name, columns, with }} against the catalogue and the table: the transformer by
 * name, its options (unknown ones and bad values refused, naming them), its own column names mapped to the table's
 * (a mapping to a column the table lacks, or of a name the transformer does not have, refused), and whether it can
 * run in this process. What the engine then runs sees the table's columns only.
 */
final class TransformerCheck {

    /** The transformer as the engine runs it, and the table's columns it reads and writes. */
    record Resolved(Transformer transformer, List<Column> reads, List<Column> writes) {}

    private TransformerCheck() {}

    static Resolved resolve(TransformerSpec spec, Keyset keyset, Transformer.Catalog catalog, List<Finding> findings) {
        Transformer found = find(spec, catalog);
        try {
            return resolveChecked(spec, keyset, found, findings);
        } catch (SpecException e) {
            throw e;
        } catch (RuntimeException | LinkageError e) {
            // A team's transformer failing in a way of its own (an Error among them: a static initializer that
            // throws, a class missing from the class path) is still a job that cannot run: refused before anything is
            // written, in one line naming its class and jar.
            Class<?> origin = TeamJars.origin(found);
            throw new SpecException(
                    "transformer",
                    "'" + spec.name() + "' (" + origin.getName() + " in " + TeamJars.of(origin)
                            + ") failed at preflight: " + TeamJars.describe(e));
        }
    }

    /** The transformer of the spec's name, from the first catalogue that knows it. */
    private static Transformer find(TransformerSpec spec, Transformer.Catalog catalog) {
        Transformer found;
        try {
            found = catalog.find(spec.name());
        } catch (RuntimeException | LinkageError e) {
            throw new SpecException(
                    field(spec, "name"), "'" + spec.name() + "' cannot be looked up: " + TeamJars.describe(e));
        }
        if (found == null) {
            throw new SpecException(
                    field(spec, "name"),
                    "no transformer named '" + spec.name() + "'; looked for in: " + catalog.searched());
        }
        return found;
    }

    private static Resolved resolveChecked(
            TransformerSpec spec, Keyset keyset, Transformer found, List<Finding> findings) {
        Transformer t = configure(spec, found);
        Table table = keyset.table();
        Map<String, String> tableColumn = new LinkedHashMap<>();
        List<Column> reads = new ArrayList<>();
        for (String own : t.reads()) {
            reads.add(column(spec, t, table, own));
            tableColumn.put(own, spec.column(own));
        }
        for (String own : t.readsIfPresent()) {
            if (spec.columns().containsKey(own) || table.column(own) != null) {
                reads.add(column(spec, t, table, own));
                tableColumn.put(own, spec.column(own));
            } else {
                findings.add(Finding.ok(
                        "transformer",
                        spec.name() + ": " + table.qualifiedName() + " has no column '" + own
                                + "', which it reads if present; every row reads it as empty"));
            }
        }
        List<Column> writes = new ArrayList<>();
        Set<Column> written = new LinkedHashSet<>();
        for (String own : t.writes()) {
            String field = spec.columns().containsKey(own) ? "transformer.columns." + own : "transformer";
            Column col = TargetColumnsCheck.resolve(keyset, Map.of(spec.column(own), "(java)"), field)
                    .keySet()
                    .iterator()
                    .next();
            if (!written.add(col)) {
                throw new SpecException(field, "column '" + col.name() + "' is written twice");
            }
            writes.add(col);
            tableColumn.put(own, col.name());
        }
        for (String own : spec.columns().keySet()) {
            if (!tableColumn.containsKey(own) && !t.readsIfPresent().contains(own)) {
                throw new SpecException(
                        "transformer.columns." + own,
                        spec.name() + " has no column named '" + own + "' (it reads "
                                + names(t.reads(), t.readsIfPresent()) + " and writes " + t.writes() + ")");
            }
        }
        boolean renamed =
                tableColumn.entrySet().stream().anyMatch(e -> !e.getKey().equals(e.getValue()))
                        || !tableColumn.keySet().containsAll(t.readsIfPresent());
        findings.add(Finding.ok(
                "mode",
                "java: transformer " + spec.name() + " reads "
                        + reads.stream().map(Column::name).toList() + ", writes "
                        + writes.stream().map(Column::name).toList()
                        + (spec.with().isEmpty() ? "" : " with " + new TreeMap<>(spec.with()))
                        + "; one SELECT ... FOR UPDATE and one UPDATE ... FROM unnest(...) per chunk"));
        return new Resolved(renamed ? new RenamedTransformer(t, tableColumn) : t, reads, writes);
    }

    /** The transformer with the spec's options, ready to run in this process. */
    private static Transformer configure(TransformerSpec spec, Transformer found) {
        Set<String> known = found.options();
        for (String option : spec.with().keySet()) {
            if (!known.contains(option)) {
                throw new SpecException(
                        "transformer.with." + option,
                        "unknown option of " + spec.name()
                                + (known.isEmpty()
                                        ? " (it takes none)"
                                        : " (its options: " + String.join(", ", new TreeSet<>(known)) + ")"));
            }
        }
        Transformer t;
        try {
            t = spec.with().isEmpty() ? found : found.with(spec.with());
        } catch (Transformer.BadOption e) {
            throw new SpecException("transformer.with." + e.option(), e.getMessage());
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new SpecException("transformer.with", e.getMessage());
        }
        try {
            t.ready();
        } catch (Transformer.BadOption e) {
            String field = spec.with().containsKey(e.option()) ? "transformer.with." + e.option() : "transformer";
            throw new SpecException(field, "'" + spec.name() + "' cannot run here: " + e.getMessage());
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw new SpecException("transformer", "'" + spec.name() + "' cannot run here: " + e.getMessage());
        }
        loadsWhatItNeeds(t);
        return t;
    }

    /**
     * Transforms a row of nulls once, so that the classes a transformer needs only for rows are loaded now: one missing
     * from the class path, or whose static initializer throws, is an Error here (refused by {@link #resolve}, naming
     * the jar) instead of at the first chunk. What it returns, and an exception of its own about empty values, mean
     * nothing and are ignored; a transformer is stateless, so the call leaves nothing behind.
     */
    private static void loadsWhatItNeeds(Transformer t) {
        try {
            t.transform(EMPTY_ROW);
        } catch (RuntimeException ignored) {
            // its own opinion of a row of nulls
        }
    }

    private static final Transformer.Row EMPTY_ROW = new Transformer.Row() {
        @Override
        public String text(String column) {
            return null;
        }

        @Override
        public Object value(String column) {
            return null;
        }
    };

    private static Column column(TransformerSpec spec, Transformer t, Table table, String own) {
        String name = spec.column(own);
        Column col = table.column(name);
        if (col == null) {
            if (spec.columns().containsKey(own)) {
                throw new SpecException(
                        "transformer.columns." + own, "no column '" + name + "' in " + table.qualifiedName());
            }
            throw new SpecException(
                    "transformer",
                    "'" + spec.name() + "' reads column '" + own + "', which "
                            + table.qualifiedName() + " does not have (map it to one of the table's: columns: { " + own
                            + ": ... }"
                            + (t.options().isEmpty()
                                    ? ""
                                    : "; options: " + String.join(", ", new TreeSet<>(t.options())))
                            + ")");
        }
        return col;
    }

    private static String field(TransformerSpec spec, String part) {
        return spec.isShortForm() ? "transformer" : "transformer." + part;
    }

    private static List<String> names(List<String> reads, List<String> ifPresent) {
        List<String> all = new ArrayList<>(reads);
        ifPresent.forEach(r -> all.add(r + " (if present)"));
        return all;
    }
}
