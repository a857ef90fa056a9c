package dev.sluice.engine.preflight;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import dev.sluice.engine.Finding;
import dev.sluice.engine.chunk.WritePlan;
import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Sql;
import dev.sluice.engine.keyset.Table;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.sync.SyncDefinition;

/**
 * The application's own BEFORE ROW triggers beside a job's writes. PostgreSQL fires them in the byte order of their
 * names, each on the row as the ones before it left it, on the application's writes and on the chunks' alike; one
 * can change what the job reads or wrote after it was computed, and leave the row out of step. Which columns a
 * trigger's function changes, PostgreSQL cannot say: only for the few functions whose code it names
 * ({@link #knownWrites}) is it known; any other may change any column.
 *
 * <p>With {@code sync: trigger} Sluice makes what it can right and refuses the rest (field {@code sync}):
 * <ul>
 * <li>In place, its trigger fires after every other BEFORE trigger (its name sorts last) and on every update that
 * changed what the job reads or writes, whoever changed it: a trigger before it is harmless, whatever it does. One
 * that sorts after it is refused unless known to change nothing the job reads or writes.</li>
 * <li>Java mode logs keys in an AFTER trigger, which sees the row as every BEFORE trigger left it; but the runner's
 * own UPDATE of the targets fires them again, after the transform: one that fires on it is refused unless known
 * harmless (declared {@code BEFORE UPDATE OF} columns the job does not write, it does not fire).</li>
 * <li>A copy's mirror or log is an AFTER trigger too; but the target table's BEFORE triggers fire on the chunks' and
 * the mirror's upserts: one that may change a copied column is refused.</li>
 * </ul>
 * A disabled trigger (or one that fires only for replication sessions, where no trigger of Sluice's fires either)
 * is named, not refused: the next preflight decides when it is enabled. Without {@code sync: trigger} the same
 * triggers are warnings: rows they change show in validation.
 */
final class TriggerCheck {

    /** What the check found: whether another BEFORE UPDATE trigger may change a target column, and what to say. */
    record Verdict(boolean othersMayChangeTargets, List<Finding> findings) {}

    /**
     * One BEFORE ROW trigger on INSERT or UPDATE.
     *
     * @param updateOf the columns of {@code UPDATE OF} (empty: any update)
     * @param writes   the columns its function may change, when known; null when it may change any
     * @param after    whether it fires after Sluice's own trigger of the same event
     */
    record Other(
            String name,
            String relation,
            boolean insert,
            boolean update,
            List<String> updateOf,
            String enabled,
            String function,
            String language,
            Set<String> writes,
            boolean after) {

        /** Whether it fires in the application's sessions (not disabled, not for replication sessions only). */
        boolean fires() {
            return enabled.equals("O") || enabled.equals("A");
        }

        /** Whether an UPDATE that sets {@code columns} fires it (its WHEN clause aside). */
        boolean firesOnUpdateOf(Collection<String> columns) {
            return update && (updateOf.isEmpty() || !Collections.disjoint(updateOf, columns));
        }

        boolean mayChange(Collection<String> columns) {
            return writes == null || !Collections.disjoint(writes, columns);
        }

        /** {@code name (function, language)}, and what it is known to change. */
        String describe() {
            return name + " on " + relation + " (" + function + ", " + language
                    + (writes == null
                            ? ""
                            : writes.isEmpty()
                                    ? ", which changes no column"
                                    : ", which changes only " + String.join(", ", writes))
                    + ")";
        }
    }

    private TriggerCheck() {}

    /**
     * With {@code sync: trigger}: refuses what cannot be kept right, names the rest.
     *
     * @param read    the database the table is in
     * @param target  the database the job writes (a copy's {@code into} is there)
     * @param reads   the columns the job's expressions, filter and key read
     * @param ours    the names of Sluice's own triggers on the table (for the compute kind: ins, upd)
     * @throws SpecException (field {@code sync}) naming the trigger and why
     */
    static Verdict withSync(
            Connection read,
            Connection target,
            WritePlan plan,
            SyncDefinition.Kind kind,
            Collection<String> reads,
            List<String> ours,
            String schema)
            throws SQLException {
        List<String> targets = names(plan.targets());
        Set<String> used = union(reads, targets);
        List<Finding> findings = new ArrayList<>();
        boolean othersMayChangeTargets = false;
        Table table = plan.keyset().table();
        List<Other> others = others(read, table, kind == SyncDefinition.Kind.COMPUTE ? ours : List.of(), schema);
        if (kind == SyncDefinition.Kind.COMPUTE) {
            for (Other o : others) {
                if (o.fires() && o.after() && o.mayChange(used)) {
                    throw new SpecException(
                            "sync",
                            "trigger " + o.describe() + " fires after Sluice's " + ours.get(0)
                                    + " (PostgreSQL fires BEFORE triggers in the order of their names): " + why(o, used)
                                    + ", after the job computed the row. Rename it to sort before ~sluice (ALTER TRIGGER "
                                    + Sql.quote(o.name()) + " ON " + o.relation()
                                    + " RENAME TO ...), or use sync: none");
                }
                othersMayChangeTargets |= o.update() && o.mayChange(targets);
            }
            List<Other> after =
                    others.stream().filter(o -> o.fires() && o.after()).toList();
            if (!after.isEmpty()) {
                findings.add(Finding.ok(
                        "triggers",
                        list(after) + verb(after, " fires", " fire") + " after Sluice's " + ours.get(0) + " and "
                                + verb(after, "changes", "change") + " nothing the job reads or writes"));
            }
            List<Other> before =
                    others.stream().filter(o -> o.fires() && !o.after()).toList();
            if (!before.isEmpty()) {
                findings.add(Finding.warn(
                        "triggers",
                        list(before) + verb(before, " fires", " fire") + " before Sluice's " + ours.get(0) + ", which"
                                + " computes the row from what they leave, on every insert and every update that changes a"
                                + " column the job reads"
                                + (othersMayChangeTargets
                                        ? "; as they may change "
                                                + String.join(", ", targets)
                                                + ", also on every update that changes those, the chunks' own"
                                                + " included (each chunk's rows are computed twice)"
                                        : "")));
            }
        } else if (plan instanceof WritePlan.Java) {
            for (Other o : others) {
                if (o.fires() && o.firesOnUpdateOf(targets) && o.mayChange(used)) {
                    throw new SpecException(
                            "sync",
                            "trigger " + o.describe() + " fires on the runner's own UPDATE of "
                                    + String.join(", ", targets) + ", after the transformer computed them: "
                                    + why(o, used)
                                    + ", and the row would end out of step. Declare it BEFORE UPDATE OF the columns it needs"
                                    + " (not " + String.join(", ", targets) + "), disable it while the job runs, or use"
                                    + " sync: none");
                }
            }
            beforeAfterTrigger(others, findings, "logs the row's key");
        } else {
            beforeAfterTrigger(others, findings, "mirrors the row");
        }
        if (plan instanceof WritePlan.Copy copy) {
            for (Other o : others(target, copy.target(), List.of(), schema)) {
                if (o.fires() && firesOnUpsert(o, targets) && o.mayChange(targets)) {
                    throw new SpecException(
                            "sync",
                            "trigger " + o.describe() + " fires on Sluice's own writes to "
                                    + copy.target().qualifiedName() + ": " + why(o, targets)
                                    + ", and the copy would end out"
                                    + " of step with its source. Disable it while the job runs, or use sync: none");
                }
            }
        }
        disabled(others, findings);
        return new Verdict(othersMayChangeTargets, findings);
    }

    /** Without {@code sync: trigger}: the triggers that fire on the chunks' own writes, as warnings. */
    static List<Finding> withoutSync(Connection read, Connection target, WritePlan plan, String schema)
            throws SQLException {
        List<String> targets = names(plan.targets());
        List<Other> fire = new ArrayList<>();
        if (plan instanceof WritePlan.Copy copy) {
            for (Other o : others(target, copy.target(), List.of(), schema)) {
                if (o.fires() && firesOnUpsert(o, targets) && o.mayChange(targets)) {
                    fire.add(o);
                }
            }
        } else {
            for (Other o : others(read, plan.keyset().table(), List.of(), schema)) {
                if (o.fires()
                        && o.firesOnUpdateOf(targets)
                        && (o.writes() == null || !o.writes().isEmpty())) {
                    fire.add(o);
                }
            }
        }
        return fire.isEmpty()
                ? List.of()
                : List.of(Finding.warn(
                        "triggers",
                        list(fire) + verb(fire, " fires", " fire")
                                + " on each chunk's own write, after it computed the row: a column changed there that the job reads or"
                                + " writes leaves the row out of step (validation shows it)"
                                + (plan instanceof WritePlan.Copy
                                        ? ""
                                        : "; with sync: trigger, Sluice computes the row after them")));
    }

    /** Whether a chunk's {@code INSERT ... ON CONFLICT DO UPDATE} of {@code columns} fires it. */
    private static boolean firesOnUpsert(Other o, Collection<String> columns) {
        return o.insert() || o.firesOnUpdateOf(columns);
    }

    private static void beforeAfterTrigger(List<Other> others, List<Finding> findings, String what) {
        List<Other> firing = others.stream().filter(Other::fires).toList();
        if (!firing.isEmpty()) {
            findings.add(Finding.ok(
                    "triggers",
                    list(firing) + verb(firing, " fires", " fire") + " before Sluice's AFTER trigger, which " + what
                            + " as they leave it"));
        }
    }

    private static void disabled(List<Other> others, List<Finding> findings) {
        List<Other> idle = others.stream().filter(o -> !o.fires()).toList();
        if (!idle.isEmpty()) {
            findings.add(Finding.warn(
                    "triggers",
                    list(idle) + verb(idle, " does", " do") + " not fire now (disabled,"
                            + " or for replication sessions only); the next plan or run checks "
                            + verb(idle, "it", "them")
                            + " again once enabled"));
        }
    }

    /** Why a trigger may break the row: the columns it is known to change, or that it may change any. */
    private static String why(Other o, Collection<String> used) {
        if (o.writes() != null) {
            return "it changes " + o.writes().stream().filter(used::contains).collect(Collectors.joining(", "))
                    + ", which the job reads or writes";
        }
        return "Sluice cannot know which columns a " + o.language() + " function changes (PostgreSQL does not say),"
                + " and it may change one the job reads or writes (" + String.join(", ", used) + ")";
    }

    private static String verb(List<Other> others, String one, String many) {
        return others.size() == 1 ? one : many;
    }

    private static String list(List<Other> others) {
        return (others.size() == 1 ? "trigger " : "triggers ")
                + others.stream().map(Other::describe).collect(Collectors.joining(", "));
    }

    /**
     * The BEFORE ROW triggers on INSERT or UPDATE of a table (and of its partitions), but Sluice's own (their
     * functions live in its schema), in the order PostgreSQL fires them.
     *
     * @param ours Sluice's triggers of the same events (ins, upd), to tell which fire after them; or empty
     */
    private static List<Other> others(Connection c, Table table, List<String> ours, String schema) throws SQLException {
        String after = ours.isEmpty()
                ? "false"
                : "(t.tgtype & 4 <> 0 AND t.tgname > CAST(? AS name)"
                        + " OR t.tgtype & 16 <> 0 AND t.tgname > CAST(? AS name))";
        try (PreparedStatement ps = c.prepareStatement("SELECT t.tgname, t.tgrelid::regclass::text,"
                + " t.tgtype & 4 <> 0, t.tgtype & 16 <> 0,"
                + " ARRAY(SELECT a.attname::text FROM unnest(t.tgattr::int2[]) k JOIN pg_attribute a"
                + " ON a.attrelid = t.tgrelid AND a.attnum = k), t.tgenabled, p.oid::regprocedure::text, l.lanname,"
                + " p.prosrc, p.probin, t.tgargs, " + after
                + " FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_language l ON l.oid = p.prolang"
                + " WHERE (t.tgrelid = ? OR t.tgrelid IN (SELECT relid FROM pg_partition_tree(CAST(? AS oid)::regclass)))"
                // Not internal (foreign keys), not a partition's clone of its parent's; ROW, BEFORE (not INSTEAD OF),
                // on INSERT or UPDATE; not Sluice's own.
                + " AND NOT t.tgisinternal AND t.tgparentid = 0 AND t.tgtype & 1 = 1 AND t.tgtype & 66 = 2"
                + " AND t.tgtype & 20 <> 0"
                + " AND p.pronamespace IS DISTINCT FROM (SELECT oid FROM pg_namespace WHERE nspname = ?)"
                + " ORDER BY t.tgname")) {
            int i = 1;
            for (String name : ours) {
                ps.setString(i++, name);
            }
            ps.setLong(i++, table.oid());
            ps.setLong(i++, table.oid());
            ps.setString(i, schema);
            List<Other> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    List<String> args = arguments(rs.getBytes(11));
                    out.add(new Other(
                            rs.getString(1),
                            rs.getString(2),
                            rs.getBoolean(3),
                            rs.getBoolean(4),
                            List.of((String[]) rs.getArray(5).getArray()),
                            rs.getString(6),
                            rs.getString(7),
                            rs.getString(8),
                            knownWrites(rs.getString(8), rs.getString(9), rs.getString(10), args),
                            rs.getBoolean(12)));
                }
            }
            return out;
        }
    }

    /**
     * The columns a trigger function changes, for the functions whose code PostgreSQL names (its C symbol and
     * library, or an internal function's symbol) and which change only the columns their trigger's arguments name:
     * null for any other (a PL/pgSQL function's assignments are nowhere in the catalog).
     */
    private static Set<String> knownWrites(String language, String symbol, String library, List<String> args) {
        if (language.equals("internal")) {
            return switch (symbol) {
                case "suppress_redundant_updates_trigger" -> Set.of();
                case "tsvector_update_trigger_byid", "tsvector_update_trigger_bycolumn" ->
                    args.isEmpty() ? null : Set.of(args.get(0));
                default -> null;
            };
        }
        if (language.equals("c") && library != null && library.equals("$libdir/" + symbol)) {
            return switch (symbol) {
                // moddatetime(column), insert_username(column): the column named; autoinc(column, sequence, ...).
                case "moddatetime", "insert_username" -> args.isEmpty() ? null : Set.of(args.get(0));
                case "autoinc" -> {
                    Set<String> columns = new LinkedHashSet<>();
                    for (int i = 0; i < args.size(); i += 2) {
                        columns.add(args.get(i));
                    }
                    yield columns.isEmpty() ? null : columns;
                }
                default -> null;
            };
        }
        return null;
    }

    /** A trigger's arguments as pg_trigger.tgargs holds them: each ended by a zero byte. */
    private static List<String> arguments(byte[] tgargs) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; tgargs != null && i < tgargs.length; i++) {
            if (tgargs[i] == 0) {
                out.add(new String(tgargs, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        return out;
    }

    private static List<String> names(List<Column> columns) {
        return columns.stream().map(Column::name).toList();
    }

    private static Set<String> union(Collection<String> a, Collection<String> b) {
        Set<String> out = new LinkedHashSet<>(a);
        out.addAll(b);
        return out;
    }
}
