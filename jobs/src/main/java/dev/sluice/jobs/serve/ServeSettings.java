package dev.sluice.jobs.serve;

import java.nio.file.Path;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.spi.Connector;

/**
 * What {@code sluice serve} was started with.
 *
 * @param token the bearer token operators' POSTs must carry, or null (then control over HTTP is refused)
 */
public record ServeSettings(
        HikariDataSource dataSource, String schema, Path config, String token, Connector standbys, Connector sources) {}
