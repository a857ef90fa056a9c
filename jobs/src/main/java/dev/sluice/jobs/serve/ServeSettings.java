package dev.sluice.jobs.serve;

import java.nio.file.Path;

import dev.sluice.engine.health.StandbySignal;

import com.zaxxer.hikari.HikariDataSource;

/**
 * What {@code sluice serve} was started with.
 *
 * @param token the bearer token operators' POSTs must carry, or null (then control over HTTP is refused)
 */
public record ServeSettings(HikariDataSource dataSource, String schema, Path config, String token,
                            StandbySignal.Connector standbys, StandbySignal.Connector sources) {
}
