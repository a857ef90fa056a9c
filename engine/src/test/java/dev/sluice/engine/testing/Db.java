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
