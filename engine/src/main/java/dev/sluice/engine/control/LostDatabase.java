package dev.sluice.engine.control;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLTransientConnectionException;
import java.util.logging.Logger;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;

/**
 * The engine's DataSource, which fails at once while the database is known to be lost. When a runner's lock watch
 * finds the database gone, the runner's attempt still has to end: Spring Batch writes each step's and the job's end,
 * one connection each, and every one of them would wait for the pool to give up on the database (seconds each, a
 * minute in all). Told of the loss, this refuses connections at once (as a lost database, SQLSTATE 08006), so that
 * the attempt ends within moments and the runner goes on to reconnect; the reconnection's probe, which goes to the
 * database itself, clears it. Every job run through one engine shares it: when the database is gone, it is gone for
 * all of them.
 */
public final class LostDatabase implements DataSource {

    private final DataSource database;
    private volatile String lost;

    public LostDatabase(DataSource database) {
        this.database = database;
    }

    /** The database itself, past the guard: for the probe that finds it back. */
    public DataSource database() {
        return database;
    }

    /** The database is gone ({@code why}): connections are refused until {@link #found}. */
    public void lost(String why) {
        lost = why;
        // The pool's idle connections died with their server: let them go rather than check each on its way out.
        if (database instanceof HikariDataSource pool && pool.getHikariPoolMXBean() != null) {
            pool.getHikariPoolMXBean().softEvictConnections();
        }
    }

    /** The database answers again. */
    public void found() {
        lost = null;
    }

    private void refuseWhileLost() throws SQLException {
        String why = lost;
        if (why != null) {
            throw new SQLTransientConnectionException(
                    "the database was lost (" + why + "); waiting to reconnect", "08006");
        }
    }

    @Override
    public Connection getConnection() throws SQLException {
        refuseWhileLost();
        return database.getConnection();
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        refuseWhileLost();
        return database.getConnection(username, password);
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
        return database.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
        database.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        database.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
        return database.getLoginTimeout();
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        return database.getParentLogger();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        return iface.isInstance(database) ? iface.cast(database) : database.unwrap(iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(database) || database.isWrapperFor(iface);
    }
}
