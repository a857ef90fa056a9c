package dev.sluice.engine.preflight;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import dev.sluice.engine.spec.SpecException;

/**
 * Refuses an expression that calls a VOLATILE function or locks rows, as PostgreSQL classifies what it calls: for
 * SQL that must only read, each time it runs ({@code health.query}, read every poll). A read-only transaction stops
 * writes to tables, not what a volatile function does ({@code pg_terminate_backend}, {@code dblink}'s statements on
 * another server, {@code pg_advisory_lock}, {@code set_config}).
 *
 * <p>What an expression calls is read from the server's own parse tree, not from its text: the expression becomes a
 * temporary view (in a transaction that is always rolled back; the view is never queried), and its query tree, as
 * PostgreSQL stored it in {@code pg_rewrite}, names every function by OID: functions and casts, aggregates and window
 * functions, the functions behind operators, the input and output functions of the types it converts, and the same
 * inside every view it reads. Each is looked up in {@code pg_proc.provolatile}, the classification PostgreSQL's
 * planner trusts. (The view's {@code pg_depend} rows would not do: PostgreSQL records no dependency on built-in
 * functions.)
 */
final class VolatileCheck {

    private static final String VIEW = "sluice_volatile_probe";

    // Every function the trees call, by the node fields that carry one (FuncExpr, Aggref, WindowFunc, OpExpr and its
    // kin, ScalarArrayOpExpr, window frames), the operators' functions (OpExpr, RowCompareExpr, sorting and grouping),
    // and the I/O functions of every type named (CoerceViaIO converts through them). Views the trees read are followed.
    private static final String CALLS = """
            WITH RECURSIVE trees(tree, seen) AS (
                SELECT r.ev_action::text, ARRAY[r.ev_class] FROM pg_rewrite r WHERE r.ev_class = to_regclass(?)
              UNION ALL
                SELECT r.ev_action::text, t.seen || r.ev_class
                FROM trees t
                CROSS JOIN LATERAL regexp_matches(t.tree, ':relid (\\d+)', 'g') AS m(x)
                JOIN pg_rewrite r ON r.ev_class = m.x[1]::oid AND r.rulename = '_RETURN'
                WHERE NOT r.ev_class = ANY (t.seen)
            ), called(proc) AS (
                SELECT m.x[1]::oid FROM trees CROSS JOIN LATERAL regexp_matches(tree,
                    ':(?:funcid|aggfnoid|winfnoid|opfuncid|hashfuncid|negfuncid|startInRangeFunc|endInRangeFunc) (\\d+)',
                    'g') AS m(x)
              UNION
                SELECT o.oprcode::oid FROM trees CROSS JOIN LATERAL regexp_matches(tree, ':(?:opno|sortop|eqop) (\\d+)', 'g')
                    AS m(x) JOIN pg_operator o ON o.oid = m.x[1]::oid
              UNION
                SELECT o.oprcode::oid FROM trees CROSS JOIN LATERAL regexp_matches(tree, ':opnos \\(o ([0-9 ]+)\\)', 'g')
                    AS m(x) CROSS JOIN LATERAL unnest(string_to_array(trim(m.x[1]), ' ')) AS op(id)
                    JOIN pg_operator o ON o.oid = op.id::oid
              UNION
                SELECT io.f FROM trees CROSS JOIN LATERAL regexp_matches(tree, ':[a-z_]*type(?:id)? (\\d+)', 'gi') AS m(x)
                    JOIN pg_type t ON t.oid = m.x[1]::oid CROSS JOIN LATERAL unnest(ARRAY[t.typinput, t.typoutput]) AS io(f)
            )
            SELECT DISTINCT CASE WHEN p.pronamespace = 'pg_catalog'::regnamespace THEN quote_ident(p.proname)
                                 ELSE p.pronamespace::regnamespace || '.' || quote_ident(p.proname) END
            FROM called JOIN pg_proc p ON p.oid = called.proc
            WHERE p.provolatile = 'v' ORDER BY 1""";
    // A row for each query of the tree that locks rows (FOR UPDATE, FOR SHARE).
    private static final String LOCKS = """
            SELECT 'locks' FROM pg_rewrite r
            WHERE r.ev_class = to_regclass(?) AND r.ev_action::text ~ ':hasForUpdate true'""";

    private VolatileCheck() {}

    /** The rows of a one-column query about the probe's view, as text. */
    private static List<String> strings(Connection c, String query) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(query)) {
            ps.setString(1, "pg_temp." + VIEW);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    /**
     * @param sql   one expression, already checked to be one ({@code SqlFragments}) and to plan
     * @param field the spec field it comes from, for the message
     * @throws SpecException naming {@code field} if the expression calls a volatile function or locks rows
     */
    static void refuse(Connection c, String field, String sql) throws SQLException {
        List<String> calls;
        boolean locks;
        try (ProbeTransaction tx = ProbeTransaction.begin(c)) {
            try {
                tx.execute("CREATE TEMP VIEW " + VIEW + " AS SELECT (" + sql + "\n) AS v");
            } catch (SQLException e) {
                throw new SpecException(
                        field,
                        "cannot tell which functions it calls (PostgreSQL: " + ServerMessages.of(e)
                                + "); the role needs the TEMPORARY privilege on the database");
            }
            calls = strings(c, CALLS);
            locks = !strings(c, LOCKS).isEmpty();
        }
        if (!calls.isEmpty()) {
            throw new SpecException(
                    field,
                    "calls " + String.join(", ", calls) + ", which PostgreSQL classifies as"
                            + " VOLATILE: it may act each time it runs, and a read-only transaction does not stop it; a signal"
                            + " read every poll may call only STABLE or IMMUTABLE functions");
        }
        if (locks) {
            throw new SpecException(
                    field, "locks rows (FOR UPDATE or FOR SHARE); a signal read every poll must only" + " read");
        }
    }
}
