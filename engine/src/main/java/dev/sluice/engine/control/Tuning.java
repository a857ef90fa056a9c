package dev.sluice.engine.control;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

import javax.sql.DataSource;

import dev.sluice.engine.keyset.Sql;

/**
 * An operator's {@code tune} of a job's rate, kept with the job ({@code <schema>.job_tuning}) rather than with one of
 * its runs: it holds for all the job's work after it (the backfill, its validation, a repair, a rollback, a run
 * resumed after a pause) until the operator tunes again, or the spec's own rate is edited (the spec, changed since, then
 * wins), or the job starts over ({@code run --again}). A rate given for one run on the command line
 * ({@code validate --rows-per-second}) is that run's, and wins over it.
 */
public final class Tuning {

    /** A tuned rate, and the spec's rate when it was tuned. */
    public record Tune(long rowsPerSecond, long specRowsPerSecond) {

        /** The rate in force for a spec whose own rate is {@code specRowsPerSecondNow}: this, unless it was edited. */
        public Optional<Long> over(long specRowsPerSecondNow) {
            return specRowsPerSecond == specRowsPerSecondNow ? Optional.of(rowsPerSecond) : Optional.empty();
        }
    }

    private Tuning() {}

    private static String table(String schema) {
        return Sql.quote(schema) + ".job_tuning";
    }

    /** The job's tune, if an operator gave one (and the repository has its table). */
    public static Optional<Tune> read(Connection c, String schema, String job) throws SQLException {
        if (!Sql.exists(c, table(schema))) {
            return Optional.empty();
        }
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT rows_per_second, spec_rows_per_second FROM " + table(schema) + " WHERE job = ?")) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new Tune(rs.getLong(1), rs.getLong(2))) : Optional.empty();
            }
        }
    }

    public static Optional<Tune> read(DataSource ds, String schema, String job) throws SQLException {
        try (Connection c = ds.getConnection()) {
            return read(c, schema, job);
        }
    }

    /** Records that an operator tuned the job to {@code rowsPerSecond} while its spec said {@code specRowsPerSecond}. */
    public static void save(
            DataSource ds, String schema, String job, long rowsPerSecond, long specRowsPerSecond, String by)
            throws SQLException {
        try (Connection c = ds.getConnection();
                PreparedStatement ps = c.prepareStatement("INSERT INTO " + table(schema)
                        + " (job, rows_per_second, spec_rows_per_second, by_whom) VALUES (?, ?, ?, ?) ON CONFLICT (job) DO UPDATE"
                        + " SET rows_per_second = excluded.rows_per_second, spec_rows_per_second = excluded.spec_rows_per_second,"
                        + " at = now(), by_whom = excluded.by_whom")) {
            ps.setString(1, job);
            ps.setLong(2, rowsPerSecond);
            ps.setLong(3, specRowsPerSecond);
            ps.setString(4, by);
            ps.executeUpdate();
        }
    }

    /** Forgets the job's tune: it starts over at its spec's rate. */
    public static void forget(DataSource ds, String schema, String job) throws SQLException {
        try (Connection c = ds.getConnection();
                PreparedStatement ps = c.prepareStatement("DELETE FROM " + table(schema) + " WHERE job = ?")) {
            ps.setString(1, job);
            ps.executeUpdate();
        }
    }
}
