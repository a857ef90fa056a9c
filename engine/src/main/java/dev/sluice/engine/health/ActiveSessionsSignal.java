package dev.sluice.engine.health;

import java.sql.SQLException;
import java.util.List;

import javax.sql.DataSource;

/**
 * {@code health.active-sessions.max}: holds while more client sessions than the maximum are running a statement on
 * the server: a sign that the application is busy (or queued), which a backfill should not add to. This session does
 * not count, nor Sluice's own: those with this connection's {@code application_name} when it names Sluice (the
 * command line names its pool {@code sluice ...}). Gates are read between chunks, so a job of one partition has no
 * chunk running then; with partitions in a library's pool of another name, the other partitions' chunks count.
 */
final class ActiveSessionsSignal implements Signal {

    private static final String QUERY = """
            SELECT count(*) FROM pg_stat_activity
            WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()
              AND NOT (application_name = current_setting('application_name') AND application_name LIKE 'sluice%')""";

    private final DataSource dataSource;
    private final int max;

    ActiveSessionsSignal(DataSource dataSource, int max) {
        this.dataSource = dataSource;
        this.max = max;
    }

    @Override
    public String name() {
        return "pg_stat_activity";
    }

    @Override
    public List<Reading> read() throws SQLException {
        return SignalQuery.read(
                dataSource,
                QUERY,
                (rs, out) -> out.add(Reading.count("database", "active sessions", (double) rs.getLong(1), max)));
    }
}
