package dev.sluice.engine.health;

import java.sql.SQLException;
import java.util.List;

/** A source of health readings: replicas seen from the primary, a standby asked directly, replication slots. */
public interface Signal extends AutoCloseable {

    /** For messages: {@code pg_stat_replication}, {@code standby db2:5432/app}. */
    String name();

    /** Reads every subject this signal covers; an exception means the signal cannot be read now. */
    List<Reading> read() throws SQLException;

    /** Releases what the signal holds open (a connection to a standby). */
    @Override
    default void close() {}
}
