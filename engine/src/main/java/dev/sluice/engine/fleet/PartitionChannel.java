package dev.sluice.engine.fleet;

import javax.sql.DataSource;

import dev.sluice.engine.checkpoint.PartitionRequests;
import dev.sluice.engine.control.RemoteRuns;
import dev.sluice.engine.keyset.Sql;

import org.springframework.integration.jdbc.store.JdbcChannelMessageStore;
import org.springframework.integration.jdbc.store.channel.PostgresChannelMessageStoreQueryProvider;

/**
 * The channel a runner sends its partitions on and workers take them from: Spring Integration's JDBC channel message
 * store, in the job repository's database and schema (so nothing has to be installed beside PostgreSQL), one message
 * group for all jobs. A message is taken by one worker ({@code DELETE ... FOR UPDATE SKIP LOCKED}); an insert wakes the
 * workers through LISTEN/NOTIFY (the table's trigger, {@link RemoteRuns#ddl}).
 */
final class PartitionChannel {

    /** The message group every runner of the database sends to. */
    static final String GROUP = "sluice.partitions";

    private static final String REGION = "sluice";

    private PartitionChannel() {}

    /** The message store of the channel in {@code schema}. */
    static JdbcChannelMessageStore store(DataSource dataSource, String schema) {
        JdbcChannelMessageStore store = new JdbcChannelMessageStore(dataSource);
        store.setTablePrefix(Sql.quote(schema) + ".INT_");
        store.setRegion(REGION);
        store.setChannelMessageStoreQueryProvider(new PostgresChannelMessageStoreQueryProvider());
        // A message's bytes are Java serialization: only the request and the message's own classes are read back.
        store.addAllowedPatterns(PartitionRequests.classes().toArray(String[]::new));
        store.setCheckDatabaseOnStart(false);
        store.afterPropertiesSet();
        return store;
    }
}
