package dev.sluice.engine.preflight;

import java.sql.Connection;
import java.sql.SQLException;

import dev.sluice.engine.spec.SpecException;

import org.postgresql.core.BaseConnection;
import org.postgresql.core.CachedQuery;
import org.postgresql.core.Query;
import org.postgresql.jdbc.PreferQueryMode;

/**
 * Decides, before a statement built from operator-written SQL is ever sent, that the driver will send it as exactly
 * one statement with exactly the parameters Sluice binds. The decision is the driver's own: the connection parses
 * the text as it would for a {@code prepareStatement} (escape processing, quotes, dollar quotes, comments,
 * {@code standard_conforming_strings} as the server reported it), and a text it would split at {@code ;} is
 * refused. What the driver sends as one statement then reaches the server as one Parse message of the extended
 * protocol, which the server refuses if its own parser finds more than one command in it (SQLSTATE 42601).
 */
final class OneStatement {

    private OneStatement() {}

    /**
     * @param field      the spec field whose SQL the statement carries, for the message
     * @param parameters how many {@code ?} parameters Sluice binds
     * @throws SpecException naming {@code field} if the driver would run more than one statement, or find other
     *                       parameters than Sluice's
     */
    static void check(Connection c, String field, String sql, int parameters) throws SQLException {
        BaseConnection pg = c.unwrap(BaseConnection.class);
        if (pg.getQueryExecutor().getPreferQueryMode() == PreferQueryMode.SIMPLE) {
            // In the simple protocol the server runs every command a text holds; only the extended protocol lets it
            // refuse a second one.
            throw new SpecException(
                    "--jdbc-url",
                    "preferQueryMode=simple is not supported: Sluice relies on the"
                            + " extended protocol, in which the server refuses a second command in a statement");
        }
        CachedQuery parsed = pg.createQuery(sql, true, true);
        Query[] statements = parsed.query.getSubqueries();
        if (statements != null && statements.length > 1) {
            throw new SpecException(
                    field,
                    "must be exactly one SQL expression: the driver would run it as " + statements.length
                            + " statements");
        }
        int found = parsed.query.createParameterList().getParameterCount();
        if (found != parameters) {
            throw new SpecException(
                    field,
                    "must be exactly one SQL expression: the driver finds " + found
                            + " parameter(s) in the statement built from it, where Sluice binds " + parameters
                            + " (a '?' the quoting hides differently?)");
        }
    }
}
