package dev.sluice.engine.health;

import java.sql.SQLException;
import java.util.List;

import javax.sql.DataSource;

/**
 * Physical standbys as the primary sees them in {@code pg_stat_replication}: replay lag in time
 * ({@code replay_lag}, which PostgreSQL reports as NULL once a standby is idle and caught up) and in bytes
 * ({@code pg_wal_lsn_diff} of the current WAL position and the standby's replay position). Logical walsenders
 * are left to {@link SlotLagSignal}.
 */
public final class PrimaryReplicationSignal implements Signal {

    private static final String QUERY = """
            SELECT coalesce(nullif(r.application_name, ''), 'pid ' || r.pid) || coalesce(' at ' || host(r.client_addr), ''),
                   coalesce(extract(epoch FROM r.replay_lag), 0),
                   pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)
            FROM pg_stat_replication r
            WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots s WHERE s.active_pid = r.pid AND s.slot_type = 'logical')
            ORDER BY 1""";

    private final DataSource dataSource;
    private final double maxSeconds;
    private final long maxBytes;

    /** @param maxBytes 0 to gate on time only */
    public PrimaryReplicationSignal(DataSource dataSource, double maxSeconds, long maxBytes) {
        this.dataSource = dataSource;
        this.maxSeconds = maxSeconds;
        this.maxBytes = maxBytes;
    }

    @Override
    public String name() {
        return "pg_stat_replication";
    }

    @Override
    public List<Reading> read() throws SQLException {
        return SignalQuery.read(dataSource, QUERY, (rs, out) -> {
            String replica = "replica " + rs.getString(1);
            out.add(new Reading(replica, "replay lag", rs.getDouble(2), maxSeconds, false));
            double bytes = rs.getDouble(3);
            if (rs.wasNull()) {
                throw new SQLException(
                        replica + " shows no replay position (not yet streaming, or this user lacks" + " pg_monitor)");
            }
            if (maxBytes > 0) {
                out.add(new Reading(replica, "replay lag", bytes, maxBytes, true));
            }
        });
    }
}
