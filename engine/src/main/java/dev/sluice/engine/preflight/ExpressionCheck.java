package dev.sluice.engine.preflight;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.sluice.engine.health.QuerySignal;
import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Table;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.SqlFragments;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Checks each operator-written expression against the real table, one at a time so that an error names the field
 * it comes from: first that it is exactly one expression to the driver and the server ({@link SqlFragments} with
 * the connection's own quoting rules, then {@link OneStatement}), then that it type-checks in the place it will
 * run, with EXPLAIN (planned, never executed). Every expression is first planned alone over the table, and its plan
 * must not compute a set-returning, aggregate or window function at its top: in a chunk they would write a row
 * twice, or fail half-way through a run. (Read from the plan rather than provoked as an error: PostgreSQL reports a
 * set-returning function in the wrong place as "feature not supported", which connection pools such as HikariCP
 * take for a broken connection.)
 */
final class ExpressionCheck {

    // SQLSTATE classes that mean "this SQL cannot work on this table", as opposed to the database being unwell:
    // 42 syntax or access rule, 22 data exception, 0A feature not supported, 21 cardinality violation.
    private static final List<String> SPEC_ERRORS = List.of("42", "22", "0A", "21");
    // Plan nodes that compute, at the top of an expression's own plan, what a row-by-row write cannot take.
    private static final Map<String, String> NOT_PER_ROW = Map.of(
            "ProjectSet", "a set-returning function (one row would be written several times)",
            "Aggregate", "an aggregate function (it folds many rows into one)",
            "WindowAgg", "a window function (its value depends on rows outside the chunk)");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ExpressionCheck() {}

    /** Must run inside a transaction: each EXPLAIN runs under a savepoint so one failure does not end it. */
    static void check(Connection c, Table table, Map<Column, String> set) throws SQLException {
        for (Map.Entry<Column, String> e : set.entrySet()) {
            String field = "set." + e.getKey().name();
            String expr = value(c, field, table, e.getValue());
            explain(
                    c,
                    field,
                    "UPDATE " + table.qualifiedName() + " SET " + e.getKey().quoted() + " = (" + expr
                            + ") WHERE false");
        }
    }

    /** The spec's {@code where}, in every mode: the filter the writes and the estimate apply. */
    static void where(Connection c, Table table, String where) throws SQLException {
        if (where != null) {
            predicate(c, "where", table, where);
        }
    }

    /** Type-checks copy mode's expressions against the columns they fill. */
    static void checkCopy(Connection c, Table source, Table target, Map<Column, String> columns) throws SQLException {
        for (Map.Entry<Column, String> e : columns.entrySet()) {
            String field = "columns." + e.getKey().name();
            String expr = value(c, field, source, e.getValue());
            explain(
                    c,
                    field,
                    "INSERT INTO " + target.qualifiedName() + " (" + e.getKey().quoted() + ") SELECT (" + expr
                            + ") FROM " + source.qualifiedName() + " WHERE false");
        }
    }

    /**
     * Across databases: each expression must type-check on the source, and its type must have a cast to the
     * target column's type on the target (values travel as text and are cast there).
     */
    static void checkCrossCopy(Connection source, Connection target, Table table, Map<Column, String> columns)
            throws SQLException {
        for (Map.Entry<Column, String> e : columns.entrySet()) {
            String field = "columns." + e.getKey().name();
            String expr = value(source, field, table, e.getValue());
            String type;
            try (PreparedStatement ps =
                    source.prepareStatement("SELECT (" + expr + ") FROM " + table.qualifiedName() + " WHERE false")) {
                type = ps.getMetaData().getColumnTypeName(1);
            }
            try {
                explain(
                        target,
                        field,
                        "SELECT CAST(CAST(NULL AS " + type + ") AS "
                                + e.getKey().type() + ")");
            } catch (SpecException incompatible) {
                throw new SpecException(
                        field,
                        "the source gives " + type + ", which does not convert to "
                                + e.getKey().type() + " here: "
                                + incompatible.getMessage().replaceFirst("^" + field + ": ", ""));
            }
        }
    }

    /** Type-checks validation rules: a comparison must be comparable with IS DISTINCT FROM, a check boolean. */
    static void checkRules(Connection c, Table table, List<JobSpec.ValidationRule> rules) throws SQLException {
        for (int i = 0; i < rules.size(); i++) {
            JobSpec.ValidationRule r = rules.get(i);
            String field = "validate[" + i + "]";
            if (r.check() != null) {
                predicate(c, field + ".check", table, r.check());
                continue;
            }
            Column target = table.column(r.target());
            if (target == null) {
                throw new SpecException(
                        field + ".target", "no column '" + r.target() + "' in " + table.qualifiedName());
            }
            String expr = value(c, field + ".source", table, r.source());
            explain(
                    c,
                    field + ".source",
                    "SELECT " + target.quoted() + " IS DISTINCT FROM (" + expr + ") FROM " + table.qualifiedName()
                            + " WHERE false");
        }
    }

    /** A filter or check: one boolean expression over the table's rows. */
    private static void predicate(Connection c, String field, Table table, String sql) throws SQLException {
        String expr = value(c, field, table, sql);
        explain(c, field, "SELECT 1 FROM " + table.qualifiedName() + " WHERE (" + expr + ")");
    }

    /**
     * A value computed per row, one expression, computed from its own row alone; returns it as the driver must
     * receive it.
     */
    private static String value(Connection c, String field, Table table, String sql) throws SQLException {
        String expr = one(field, sql);
        JsonNode plan = JSON.readTree(String.join(
                "\n",
                explain(
                        c,
                        field,
                        "(FORMAT JSON) SELECT (" + expr + ") FROM " + table.qualifiedName() + " WHERE false")));
        String found = perRow(plan.path(0).path("Plan"));
        if (found != null) {
            throw new SpecException(field, "computes " + found + "; a backfill computes each row from that row");
        }
        return expr;
    }

    /** The first node of the plan's own tree (not a subquery's) that computes what is not per row, or null. */
    private static String perRow(JsonNode node) {
        if (node.isMissingNode()) {
            return null;
        }
        String relation = node.path("Parent Relationship").asString("");
        if (relation.equals("SubPlan") || relation.equals("InitPlan")) {
            return null;
        }
        String found = NOT_PER_ROW.get(node.path("Node Type").asString(""));
        if (found != null) {
            return found;
        }
        for (JsonNode child : node.path("Plans")) {
            String inner = perRow(child);
            if (inner != null) {
                return inner;
            }
        }
        return null;
    }

    /**
     * {@code health.query}: one expression, of a numeric type as the server types it (asked by describing the
     * statement, never by running it: text that a cast would turn into a number passes planning and fails every poll),
     * and the statement the gate sends plans.
     *
     * @return its type, or null without a query
     */
    static String healthQuery(Connection c, JobSpec.Health health) throws SQLException {
        if (health.query() == null) {
            return null;
        }
        String field = "health.query.sql";
        String select = "SELECT (" + one(field, health.query().sql()) + ")";
        explain(c, field, select);
        String type;
        boolean numeric;
        try (PreparedStatement ps = c.prepareStatement(select);
                PreparedStatement category = c.prepareStatement(
                        "SELECT format_type(t.oid, NULL), t.typcategory = 'N' FROM pg_type t WHERE t.oid = to_regtype(?)")) {
            String described = ps.getMetaData().getColumnTypeName(1);
            category.setString(1, described);
            try (ResultSet rs = category.executeQuery()) {
                boolean known = rs.next();
                type = known ? rs.getString(1) : described;
                numeric = known && rs.getBoolean(2);
            }
        }
        if (!numeric) {
            throw new SpecException(
                    field,
                    "returns " + type + ", not a number: the gate compares a number with max"
                            + " (count, sum, a numeric column; cast it, e.g. (...)::int, if it is a number stored as text)");
        }
        explain(c, field, QuerySignal.statement(health.query().sql()));
        return type;
    }

    private static String one(String field, String sql) {
        SqlFragments.check(field, sql);
        return SqlFragments.forJdbc(sql);
    }

    /** Plans {@code sql} (a statement, or EXPLAIN options and a statement); returns the plan's lines. */
    private static List<String> explain(Connection c, String field, String sql) throws SQLException {
        String statement = "EXPLAIN " + sql;
        OneStatement.check(c, field, statement, 0);
        Savepoint sp = c.setSavepoint();
        try (PreparedStatement ps = c.prepareStatement(statement);
                ResultSet rs = ps.executeQuery()) {
            List<String> lines = new ArrayList<>();
            while (rs.next()) {
                lines.add(rs.getString(1));
            }
            c.releaseSavepoint(sp);
            return lines;
        } catch (SQLException e) {
            // A pool may close the connection on some errors (HikariCP does on 0A000): the error is what matters.
            if (!c.isClosed()) {
                c.rollback(sp);
            }
            String state = e.getSQLState();
            if ("25006".equals(state)) {
                // Preflight only plans; the planner runs functions declared IMMUTABLE with constant arguments.
                throw new SpecException(
                        field,
                        "calls something that writes while it is only being planned (a function"
                                + " declared IMMUTABLE or STABLE that writes?): " + ServerMessages.of(e));
            }
            if (state != null && SPEC_ERRORS.contains(state.substring(0, Math.min(2, state.length())))) {
                throw new SpecException(field, ServerMessages.of(e));
            }
            throw e;
        }
    }
}
