package dev.sluice.engine.testing;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import javax.sql.DataSource;

/** Terse SQL for test set-up and assertions. */
public final class Db {

    private final DataSource ds;

    public Db(DataSource ds) {
        this.ds = ds;
    }

    public void exec(String... statements) {
        try (Connection c = ds.getConnection();
                Statement st = c.createStatement()) {
            for (String sql : statements) {
                st.execute(sql);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /**
     * The test table most tests backfill: {@code TABLE (id int PRIMARY KEY, n int NOT NULL DEFAULT 0)} holding ids
     * 1..rows, analyzed; a job {@code set: { n: n + 1 }} on it shows any row applied twice or not at all.
     */
    public void counters(String table, int rows) {
        exec(
                "CREATE TABLE " + table + " (id int PRIMARY KEY, n int NOT NULL DEFAULT 0)",
                "INSERT INTO " + table + " (id) SELECT g FROM generate_series(1, " + rows + ") g",
                "ANALYZE " + table);
    }

    /** The md5 of every row of {@code table} as text, in {@code orderBy} order: equal only if every byte is. */
    public String checksum(String table, String orderBy) {
        return one("SELECT md5(string_agg(t::text, '|' ORDER BY " + orderBy + ")) FROM " + table + " t");
    }

    /**
     * What {@code pg_dump -s} says of {@code table}, read from the catalog (the embedded server ships no pg_dump): its
     * columns in order with their types, NOT NULL and defaults; its indexes with their definitions and validity; its
     * constraints with theirs and whether validated; its triggers. Equal only if the table's definition is.
     */
    public String definition(String table) {
        return one("""
                SELECT string_agg(x, E'\\n' ORDER BY x) FROM (
                  SELECT format('column %s %s %s %s %s', a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),
                                a.attnotnull, pg_get_expr(d.adbin, d.adrelid)) x
                  FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                  WHERE a.attrelid = $table AND a.attnum > 0 AND NOT a.attisdropped
                  UNION ALL SELECT format('index %s %s', pg_get_indexdef(indexrelid), indisvalid) FROM pg_index
                  WHERE indrelid = $table
                  UNION ALL SELECT format('constraint %s %s %s', conname, pg_get_constraintdef(oid), convalidated)
                  FROM pg_constraint WHERE conrelid = $table AND contype <> 'n'
                  UNION ALL SELECT format('trigger %s', pg_get_triggerdef(oid)) FROM pg_trigger
                  WHERE tgrelid = $table AND NOT tgisinternal) s""".replace("$table", "'" + table.replace("'", "''") + "'::regclass"));
    }

    public long count(String sql) {
        return Long.parseLong(one(sql));
    }

    public String one(String sql) {
        List<String> rows = column(sql);
        if (rows.size() != 1) {
            throw new IllegalStateException("expected one row, got " + rows.size() + ": " + sql);
        }
        return rows.get(0);
    }

    public List<String> column(String sql) {
        List<String> out = new ArrayList<>();
        try (Connection c = ds.getConnection();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        return out;
    }

    public boolean exists(String relation) {
        return !"null".equals(String.valueOf(one("SELECT to_regclass('" + relation + "')")));
    }
}
