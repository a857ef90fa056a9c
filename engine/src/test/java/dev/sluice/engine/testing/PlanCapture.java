package dev.sluice.engine.testing;

import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.logging.Logger;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * The plan of every statement a DataSource's connections run, as the server executed it: PostgreSQL's
 * {@code auto_explain} (loaded into each session of the database, logging every statement, nested ones too, with
 * actual row counts) sends each plan to the client as a notice, which a wrapper around every statement collects
 * before the driver forgets it. Plans are read as data ({@code EXPLAIN}'s JSON), so a test can ask how many rows a
 * statement read from a table, whatever shape the planner chose.
 */
public final class PlanCapture implements DataSource, AutoCloseable {

    private static final ObjectMapper JSON = JsonMapper.builder().build();
    private static final Set<String> STATEMENT_METHODS = Set.of(
            "execute", "executeQuery", "executeUpdate", "executeLargeUpdate", "executeBatch", "executeLargeBatch");

    /** How the server plans a prepared statement: with the parameters' values, or once for any values. */
    public enum PlanMode {
        CUSTOM("force_custom_plan"),
        GENERIC("force_generic_plan");

        private final String setting;

        PlanMode(String setting) {
            this.setting = setting;
        }
    }

    /** One executed statement: its text and its plan (the JSON of {@code EXPLAIN (ANALYZE, FORMAT JSON)}). */
    public record Plan(String query, JsonNode root) {}

    /**
     * A scan of a relation: its node type, the index it used (or null), whether it had an index condition, the rows
     * it read (returned plus removed by a filter or a recheck, times its loops), and for an index scan the index pages
     * it read in one loop: its buffers less the heap pages it visited (an index scan whose conditions do not stop it
     * walks many leaf pages to return few rows, which no row count shows).
     */
    public record Scan(
            String query,
            String relation,
            String nodeType,
            String index,
            boolean indexCondition,
            long rowsRead,
            long indexPagesPerLoop) {}

    private final HikariDataSource pool;
    private final List<Plan> plans = new ArrayList<>();

    private PlanCapture(HikariDataSource pool) {
        this.pool = pool;
    }

    /**
     * Makes every later session of the database behind {@code url} explain its statements (as superuser: it loads a
     * library), planned as {@code mode} says, and returns a DataSource whose connections collect the plans.
     */
    public static PlanCapture on(DataSource admin, String url, PlanMode mode) {
        String database = url.replaceAll(".*/", "");
        new Db(admin)
                .exec(
                        "ALTER DATABASE " + database + " SET session_preload_libraries = 'auto_explain'",
                        "ALTER DATABASE " + database + " SET auto_explain.log_min_duration = 0",
                        "ALTER DATABASE " + database + " SET auto_explain.log_analyze = on",
                        "ALTER DATABASE " + database + " SET auto_explain.log_timing = off",
                        "ALTER DATABASE " + database + " SET auto_explain.log_buffers = on",
                        "ALTER DATABASE " + database + " SET auto_explain.log_nested_statements = on",
                        "ALTER DATABASE " + database + " SET auto_explain.log_format = 'json'",
                        "ALTER DATABASE " + database + " SET auto_explain.log_level = 'notice'",
                        "ALTER DATABASE " + database + " SET plan_cache_mode = '" + mode.setting + "'");
        return new PlanCapture(Postgres.dataSource(url));
    }

    /** The plans collected so far, and forgets them. */
    public synchronized List<Plan> drain() {
        List<Plan> out = List.copyOf(plans);
        plans.clear();
        return out;
    }

    /** Every scan of {@code relations} (unqualified names) in {@code plans}. */
    public static List<Scan> scans(List<Plan> plans, Set<String> relations) {
        List<Scan> out = new ArrayList<>();
        for (Plan p : plans) {
            walk(p.query(), p.root().path("Plan"), relations, null, out);
        }
        return out;
    }

    /**
     * The joins in {@code plans} whose join filter threw away more than {@code most} pairs of rows (times their loops):
     * a nested loop comparing every row of one side with every row of the other, quadratic in a chunk, which no scan's
     * row count shows when both sides are function scans.
     */
    public static List<String> pairwiseJoins(List<Plan> plans, long most) {
        List<String> out = new ArrayList<>();
        for (Plan p : plans) {
            pairwise(p.query(), p.root().path("Plan"), most, out);
        }
        return out;
    }

    private static void pairwise(String query, JsonNode node, long most, List<String> out) {
        if (node.isMissingNode()) {
            return;
        }
        long removed = Math.round(node.path("Rows Removed by Join Filter").asDouble(0)
                * node.path("Actual Loops").asDouble(1));
        if (removed > most) {
            out.add(node.path("Node Type").asString("") + " compared " + removed + " pairs in vain, in: "
                    + query.replaceAll("\\s+", " "));
        }
        for (JsonNode child : node.path("Plans")) {
            pairwise(query, child, most, out);
        }
    }

    /** @param under the relation of the bitmap heap scan this node feeds (its bitmap index scans name none), or null */
    private static void walk(String query, JsonNode node, Set<String> relations, String under, List<Scan> out) {
        if (node.isMissingNode()) {
            return;
        }
        String type = node.path("Node Type").asString("");
        String relation = node.path("Relation Name")
                .asString(
                        type.startsWith("Bitmap") || type.equals("BitmapOr") || type.equals("BitmapAnd")
                                ? under
                                : null);
        if (relation != null && relations.contains(relation) && !type.equals("ModifyTable")) {
            // Per loop (PostgreSQL 18 prints averages with decimals): times the loops.
            double loops = node.path("Actual Loops").asDouble(1);
            double perLoop = node.path("Actual Rows").asDouble(0)
                    + node.path("Rows Removed by Filter").asDouble(0)
                    + node.path("Rows Removed by Index Recheck").asDouble(0);
            long read = Math.round(perLoop * loops);
            boolean cond = node.has("Index Cond") || node.has("TID Cond") || node.has("Recheck Cond");
            // Buffers are the node's total over its loops; a heap page is visited at most once per row returned (an
            // index-only scan says how many it visited).
            double buffers = node.path("Shared Hit Blocks").asDouble(0)
                    + node.path("Shared Read Blocks").asDouble(0);
            // A plain index scan visits a heap page for each row it returns, and more for the dead versions of rows
            // written since (the chunks', the rollback's, an upsert's): up to three a row, and a few, are allowed.
            double heap = switch (type) {
                case "Index Scan" -> (node.path("Actual Rows").asDouble(0) * 3 + 20) * loops;
                case "Index Only Scan" -> node.path("Heap Fetches").asDouble(0);
                case "Bitmap Index Scan" -> 0;
                default -> buffers; // not an index scan: its rows tell
            };
            long indexPages = Math.round(Math.max(0, buffers - heap) / Math.max(1, loops));
            out.add(new Scan(query, relation, type, node.path("Index Name").asString(null), cond, read, indexPages));
        }
        // A bitmap heap scan reads what its bitmap index scans found: those are its children.
        String feeds =
                type.equals("Bitmap Heap Scan") ? node.path("Relation Name").asString(null) : under;
        for (JsonNode child : node.path("Plans")) {
            walk(query, child, relations, feeds, out);
        }
    }

    private synchronized void collect(SQLWarning warning) {
        for (SQLWarning w = warning; w != null; w = w.getNextWarning()) {
            String message = w.getMessage();
            int plan = message == null ? -1 : message.indexOf("plan:");
            if (plan < 0 || !message.startsWith("duration:")) {
                continue;
            }
            JsonNode root = JSON.readTree(message.substring(plan + "plan:".length()));
            plans.add(new Plan(root.path("Query Text").asString(""), root));
        }
    }

    @Override
    public Connection getConnection() throws SQLException {
        return wrap(pool.getConnection());
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        return getConnection();
    }

    private Connection wrap(Connection c) {
        InvocationHandler h = (proxy, method, args) -> {
            Object result = invoke(c, method, args);
            if (result instanceof Statement s) {
                Class<?> type = method.getReturnType();
                return Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {type}, statementHandler(s));
            }
            return result;
        };
        return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class}, h);
    }

    private InvocationHandler statementHandler(Statement s) {
        return (proxy, method, args) -> {
            if (method.getName().equals("close")) {
                collect(s.getWarnings());
                return invoke(s, method, args);
            }
            try {
                return invoke(s, method, args);
            } finally {
                if (STATEMENT_METHODS.contains(method.getName())) {
                    collect(s.getWarnings());
                    s.clearWarnings();
                }
            }
        };
    }

    private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    @Override
    public void close() {
        pool.close();
    }

    @Override
    public PrintWriter getLogWriter() {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {}

    @Override
    public void setLoginTimeout(int seconds) {}

    @Override
    public int getLoginTimeout() {
        return 0;
    }

    @Override
    public Logger getParentLogger() {
        return Logger.getGlobal();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        return pool.unwrap(iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(pool);
    }
}
