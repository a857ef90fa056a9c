package dev.sluice.engine.health;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

import dev.sluice.engine.spi.Connector;

/**
 * A standby asked directly (a URL in {@code health.replicas}). The lag is the age of the last replayed
 * transaction, but only while the standby has received WAL it has not replayed yet: a standby that has replayed
 * everything it received is not lagging, however long ago the last write was (idle-safe).
 */
public final class StandbySignal implements Signal {

    private static final String QUERY = """
            SELECT pg_is_in_recovery(),
                   pg_last_wal_receive_lsn() IS NOT NULL AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(),
                   extract(epoch FROM now() - pg_last_xact_replay_timestamp())""";

    private final String name;
    private final String url;
    private final Connector connector;
    private final double maxSeconds;
    private Connection connection;

    /** @param name the URL as it may be shown (no password) */
    public StandbySignal(String name, String url, Connector connector, double maxSeconds) {
        this.name = name;
        this.url = url;
        this.connector = connector;
        this.maxSeconds = maxSeconds;
    }

    @Override
    public String name() {
        return "standby " + name;
    }

    @Override
    public synchronized List<Reading> read() throws SQLException {
        try {
            if (connection == null || connection.isClosed()) {
                connection = connector.connect(url);
            }
            try (PreparedStatement ps = connection.prepareStatement(QUERY);
                    ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    throw new SQLException(name + " is not a standby (not in recovery)");
                }
                boolean caughtUp = rs.getBoolean(2);
                double age = rs.getDouble(3);
                boolean noReplayYet = rs.wasNull();
                double lag = caughtUp ? 0 : noReplayYet ? Double.POSITIVE_INFINITY : Math.max(0, age);
                return List.of(new Reading("replica " + name, "replay lag", lag, maxSeconds, false));
            }
        } catch (SQLException e) {
            close();
            throw e;
        }
    }

    /** Closes the connection to the standby, if open. */
    @Override
    public synchronized void close() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // it is being thrown away
            }
            connection = null;
        }
    }
}
