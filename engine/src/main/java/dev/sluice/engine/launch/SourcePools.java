package dev.sluice.engine.launch;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.ServerErrorsKeepConnections;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spi.Connector;

/** The pools to source databases of cross-database copies, one per URL, opened on first use. */
public final class SourcePools implements AutoCloseable {

    // A cross-database copy reads one range at a time on one connection, and preflight one more: two are enough.
    private static final int SOURCE_POOL_SIZE = 2;

    private final Connector connector;
    private final Map<String, HikariDataSource> pools = new ConcurrentHashMap<>();

    public SourcePools(Connector connector) {
        this.connector = connector;
    }

    /** The source of {@code spec}, or null when it reads and writes one database. */
    public DataSource of(JobSpec spec) {
        if (spec.source() == null) {
            return null;
        }
        return pools.computeIfAbsent(spec.source().jdbcUrl(), url -> {
            HikariConfig config = new HikariConfig();
            config.setDataSource(new ConnectorDataSource(url, connector));
            config.setMaximumPoolSize(SOURCE_POOL_SIZE);
            config.setPoolName("sluice-source");
            config.setExceptionOverride(new ServerErrorsKeepConnections());
            // Opened on first use: a source that is down fails preflight with its own words, not the pool's.
            config.setInitializationFailTimeout(-1);
            return new HikariDataSource(config);
        });
    }

    @Override
    public void close() {
        pools.values().forEach(HikariDataSource::close);
        pools.clear();
    }
}
