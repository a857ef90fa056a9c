package dev.sluice.engine.keyset;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.sluice.engine.spec.SpecException;

/** Reads tables, columns and unique indexes from PostgreSQL's catalog. */
public final class Catalog {

    private static final String TABLE = """
            SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relkind, c.relname,
                c.relhassubclass
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.oid = to_regclass(?)""";

    private static final String COLUMNS = """
            SELECT a.attname, format_type(a.atttypid, a.atttypmod), format_type(a.atttypid, NULL), a.attnotnull, a.attgenerated <> '',
                   CASE WHEN a.attcollation <> 0 THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END
            FROM pg_attribute a
            LEFT JOIN pg_collation co ON co.oid = a.attcollation
            LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
            WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum""";

    // One row per key column of each unique index; INCLUDE columns are not part of the ordering.
    private static final String UNIQUE_INDEXES = """
            SELECT ic.relname, i.indisprimary, i.indisvalid AND i.indisready, i.indpred IS NOT NULL,
                   a.attname, (k.opt & 1) = 1, coalesce(opc.opcdefault, false),
                   CASE WHEN k.coll <> 0 THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END
            FROM pg_index i
            JOIN pg_class ic ON ic.oid = i.indexrelid
            CROSS JOIN LATERAL unnest(i.indkey::int2[], i.indoption::int2[], i.indcollation::oid[], i.indclass::oid[])
                 WITH ORDINALITY AS k(attnum, opt, coll, opclass, ord)
            LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum AND k.attnum > 0
            LEFT JOIN pg_opclass opc ON opc.oid = k.opclass
            LEFT JOIN pg_collation co ON co.oid = k.coll
            LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
            WHERE i.indrelid = ? AND i.indisunique AND k.ord <= i.indnkeyatts
            ORDER BY i.indisprimary DESC, ic.relname, k.ord""";

    private Catalog() {}

    /**
     * @param name as an operator writes it: {@code orders}, {@code public.orders}, {@code "Mixed"."Case"}
     * @throws SpecException (field {@code table}) if there is no such table
     */
    public static Table table(Connection c, String name) throws SQLException {
        long oid;
        String qualified;
        String relname;
        boolean partitioned;
        try (PreparedStatement ps = c.prepareStatement(TABLE)) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new SpecException("table", "no table '" + name + "' (search_path: " + searchPath(c) + ")");
                }
                String kind = rs.getString(3);
                if (!"r".equals(kind) && !"p".equals(kind)) {
                    throw new SpecException("table", "'" + name + "' is not a table (relkind " + kind + ")");
                }
                oid = rs.getLong(1);
                qualified = rs.getString(2);
                relname = rs.getString(4);
                partitioned = "p".equals(kind) || rs.getBoolean(5);
            }
        } catch (SQLException e) {
            if ("42602".equals(e.getSQLState()) || "3F000".equals(e.getSQLState())) {
                throw new SpecException("table", "'" + name + "' is not a valid table name: " + e.getMessage());
            }
            throw e;
        }
        return new Table(oid, qualified, relname, columns(c, oid), uniqueIndexes(c, oid), partitioned);
    }

    private static Map<String, Column> columns(Connection c, long oid) throws SQLException {
        Map<String, Column> columns = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement(COLUMNS)) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Column col = new Column(
                            rs.getString(1),
                            rs.getString(2),
                            rs.getString(3),
                            rs.getBoolean(4),
                            rs.getBoolean(5),
                            rs.getString(6));
                    columns.put(col.name(), col);
                }
            }
        }
        return columns;
    }

    private static List<UniqueIndex> uniqueIndexes(Connection c, long oid) throws SQLException {
        Map<String, List<UniqueIndex.Part>> parts = new LinkedHashMap<>();
        Map<String, boolean[]> flags = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement(UNIQUE_INDEXES)) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String index = rs.getString(1);
                    flags.putIfAbsent(index, new boolean[] {rs.getBoolean(2), rs.getBoolean(3), rs.getBoolean(4)});
                    parts.computeIfAbsent(index, k -> new ArrayList<>())
                            .add(new UniqueIndex.Part(
                                    rs.getString(5), rs.getBoolean(6), rs.getBoolean(7), rs.getString(8)));
                }
            }
        }
        List<UniqueIndex> indexes = new ArrayList<>();
        parts.forEach((name, p) -> {
            boolean[] f = flags.get(name);
            indexes.add(new UniqueIndex(name, f[0], f[1], f[2], List.copyOf(p)));
        });
        return indexes;
    }

    private static String searchPath(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT current_setting('search_path')");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getString(1);
        }
    }
}
