package dev.sluice.engine.health;

import java.sql.SQLException;
import java.util.List;

import javax.sql.DataSource;

/**
 * Logical replication slots (CDC consumers such as Debezium): the WAL a slot holds back, from the current WAL
 * position to what its consumer confirmed. An inactive slot counts too: its consumer is gone, the WAL piles up,
 * and a backfill would only pile it faster.
 */
public final class SlotLagSignal implements Signal {

    private static final String QUERY = """
            SELECT slot_name, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)
            FROM pg_replication_slots WHERE slot_type = 'logical' AND confirmed_flush_lsn IS NOT NULL
            ORDER BY slot_name""";

    private final DataSource dataSource;
    private final long maxBytes;

    public SlotLagSignal(DataSource dataSource, long maxBytes) {
        this.dataSource = dataSource;
        this.maxBytes = maxBytes;
    }

    @Override
    public String name() {
        return "pg_replication_slots";
    }

    @Override
    public List<Reading> read() throws SQLException {
        return SignalQuery.read(
                dataSource,
                QUERY,
                (rs, out) -> out.add(
                        new Reading("slot " + rs.getString(1), "retained WAL", rs.getDouble(2), maxBytes, true)));
    }
}
