package dev.sluice.engine.health;

import java.sql.SQLException;
import java.util.List;

import javax.sql.DataSource;

/**
 * {@code health.autovacuum}: a vacuum (autovacuum or an operator's {@code VACUUM}) working on the table the job
 * writes holds the job until it ends. The two compete for the same pages and I/O, and each chunk's dead row versions
 * are what the vacuum is there to clear: writing more while it scans only makes it run longer. Read from
 * {@code pg_stat_progress_vacuum}, whose {@code relid} another role's vacuum shows only to {@code pg_read_all_stats}
 * (part of {@code pg_monitor}) or a superuser.
 */
final class VacuumSignal implements Signal {

    private static final String QUERY = """
            SELECT count(*) FILTER (WHERE relid = to_regclass(?)), count(*) FILTER (WHERE relid IS NULL)
            FROM pg_stat_progress_vacuum WHERE datname = current_database()""";

    private final DataSource dataSource;
    private final String table;

    /** @param table schema-qualified and quoted */
    VacuumSignal(DataSource dataSource, String table) {
        this.dataSource = dataSource;
        this.table = table;
    }

    @Override
    public String name() {
        return "pg_stat_progress_vacuum";
    }

    @Override
    public List<Reading> read() throws SQLException {
        return SignalQuery.read(dataSource, QUERY, ps -> ps.setString(1, table), (rs, out) -> {
            if (rs.getLong(2) > 0) {
                // A vacuum whose table this role may not see: it may be ours; fail closed, as for an unreadable signal.
                throw new SQLException("a vacuum's table is hidden from this role (grant it pg_read_all_stats)");
            }
            out.add(Reading.count("table " + table, "vacuums running", (double) rs.getLong(1), 0));
        });
    }
}
