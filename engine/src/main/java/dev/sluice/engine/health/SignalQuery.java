package dev.sluice.engine.health;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import javax.sql.DataSource;

/** A signal read with one query on the primary: each row of its result becomes readings. */
final class SignalQuery {

    /** Turns the current row into readings. */
    @FunctionalInterface
    interface Row {
        void read(ResultSet rs, List<Reading> out) throws SQLException;
    }

    private SignalQuery() {}

    /** Binds a query's parameters. */
    @FunctionalInterface
    interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    static List<Reading> read(DataSource dataSource, String query, Row row) throws SQLException {
        return read(dataSource, query, ps -> {}, row);
    }

    static List<Reading> read(DataSource dataSource, String query, Binder binder, Row row) throws SQLException {
        List<Reading> out = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(query)) {
            binder.bind(ps);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    row.read(rs, out);
                }
            }
        }
        return out;
    }
}
