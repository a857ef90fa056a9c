package dev.sluice.jobs.serve;

import dev.sluice.engine.spi.Connector;
import java.nio.file.Path;


import com.zaxxer.hikari.HikariDataSource;

/**
 * What {@code sluice serve} was started with.
 *
 * @param token the bearer token operators' POSTs must carry, or null (then control over HTTP is refused)
 */
public record ServeSettings(HikariDataSource dataSource, String schema, Path config, String token,
                            Connector standbys, Connector sources) {
}
