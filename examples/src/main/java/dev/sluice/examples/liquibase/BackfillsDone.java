package dev.sluice.examples.liquibase;

import java.sql.Connection;
import java.util.Arrays;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.JobNotDoneException;

import org.springframework.jdbc.datasource.SingleConnectionDataSource;

import liquibase.database.Database;
import liquibase.database.jvm.JdbcConnection;
import liquibase.exception.CustomPreconditionErrorException;
import liquibase.exception.CustomPreconditionFailedException;
import liquibase.precondition.CustomPrecondition;

/**
 * A Liquibase precondition for the contract step of an expand-contract change: it holds once every backfill named in
 * its {@code jobs} parameter (comma-separated) is done ({@link Backfill#require}). Put it on the changeSet that drops
 * the old column, with {@code onFail="HALT"}, and Liquibase stops there with Sluice's one-line reason:
 *
 * <pre>{@code
 * <preConditions onFail="HALT">
 *   <customPrecondition className="dev.sluice.examples.liquibase.BackfillsDone">
 *     <param name="jobs" value="users-email-lower"/>
 *   </customPrecondition>
 * </preConditions>
 * }</pre>
 */
public class BackfillsDone implements CustomPrecondition {

    private String jobs;

    /** Set by Liquibase from the {@code jobs} parameter. */
    public void setJobs(String jobs) {
        this.jobs = jobs;
    }

    @Override
    public void check(Database database) throws CustomPreconditionFailedException, CustomPreconditionErrorException {
        if (jobs == null || jobs.isBlank()) {
            throw new CustomPreconditionErrorException(
                    "BackfillsDone needs a 'jobs' parameter: the backfills to wait for");
        }
        String[] names = Arrays.stream(jobs.split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .toArray(String[]::new);
        Connection connection = ((JdbcConnection) database.getConnection()).getUnderlyingConnection();
        // Liquibase's own connection, lent for the check and not closed by it.
        SingleConnectionDataSource dataSource = new SingleConnectionDataSource(connection, true);
        try (Backfill backfill = new Backfill(dataSource)) {
            backfill.require(names);
        } catch (JobNotDoneException e) {
            throw new CustomPreconditionFailedException(e.getMessage());
        } catch (Exception e) {
            throw new CustomPreconditionErrorException("cannot read the backfills' state: " + e.getMessage(), e);
        }
    }
}
