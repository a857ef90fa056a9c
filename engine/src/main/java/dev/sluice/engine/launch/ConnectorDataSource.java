package dev.sluice.engine.launch;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.logging.Logger;

import javax.sql.DataSource;

import dev.sluice.engine.spi.Connector;

/** A DataSource over a connector (URL plus the caller's credentials), for HikariCP to pool. */
public final class ConnectorDataSource implements DataSource {

    private final String url;
    private final Connector connector;

    public ConnectorDataSource(String url, Connector connector) {
        this.url = url;
        this.connector = connector;
    }

    @Override
    public Connection getConnection() throws SQLException {
        return connector.connect(url);
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        return connector.connect(url);
    }

    @Override
    public PrintWriter getLogWriter() {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {}

    @Override
    public void setLoginTimeout(int seconds) {}

    @Override
    public int getLoginTimeout() {
        return 0;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        throw new SQLException("not a wrapper");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return false;
    }
}
