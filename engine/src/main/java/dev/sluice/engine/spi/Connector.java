package dev.sluice.engine.spi;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Opens connections to the other databases a spec names by URL (the standbys of {@code health.replicas}, the
 * {@code source.jdbc-url} of a copy). URLs in specs carry no credentials; the connector brings them (options, the
 * environment).
 */
@FunctionalInterface
public interface Connector {

    Connection connect(String url) throws SQLException;
}
