package dev.sluice.examples.liquibase;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.util.Arrays;

import dev.sluice.engine.Actor;
import dev.sluice.engine.Backfill;
import dev.sluice.engine.FinishResult;

import org.postgresql.ds.PGSimpleDataSource;

import liquibase.change.custom.CustomTaskChange;
import liquibase.database.Database;
import liquibase.database.jvm.JdbcConnection;
import liquibase.exception.CustomChangeException;
import liquibase.exception.ValidationErrors;
import liquibase.resource.ResourceAccessor;

/**
 * A Liquibase change for the contract step of an expand-contract change: it finishes every backfill named in its
 * {@code jobs} parameter ({@link Backfill#finish}: the sync trigger dropped, then the job's contract steps, each
 * lock-safe, recorded and reversible by {@code sluice rollback} until {@code sluice finish --purge}), so that
 * Liquibase's changelog history records the contract. Put it behind the {@link BackfillsDone} precondition:
 *
 * <pre>{@code
 * <changeSet id="3-contract-email" author="...">
 *   <preConditions onFail="HALT">...BackfillsDone...</preConditions>
 *   <customChange class="dev.sluice.examples.liquibase.FinishBackfills">
 *     <param name="jobs" value="users-email-lower"/>
 *   </customChange>
 * </changeSet>
 * }</pre>
 *
 * <p>Finish works in sessions of its own (its runner lock's, short lock-safe transactions, CREATE INDEX CONCURRENTLY
 * outside any transaction), not in the changeSet's: they connect as Liquibase's connection does (its URL and user),
 * with the password, if the server asks for one, from the environment variable {@code password-env} names (never
 * from the changelog), or from the user's {@code .pgpass}.
 */
public class FinishBackfills implements CustomTaskChange {

    private String jobs;
    private String passwordEnv;

    /** Set by Liquibase from the {@code jobs} parameter. */
    public void setJobs(String jobs) {
        this.jobs = jobs;
    }

    /** Set by Liquibase from the {@code password-env} parameter. */
    public void setPasswordEnv(String passwordEnv) {
        this.passwordEnv = passwordEnv;
    }

    @Override
    public void execute(Database database) throws CustomChangeException {
        try {
            Connection connection = ((JdbcConnection) database.getConnection()).getUnderlyingConnection();
            DatabaseMetaData meta = connection.getMetaData();
            PGSimpleDataSource sessions = new PGSimpleDataSource();
            sessions.setURL(meta.getURL());
            sessions.setUser(meta.getUserName());
            if (passwordEnv != null && System.getenv(passwordEnv) != null) {
                sessions.setPassword(System.getenv(passwordEnv));
            }
            try (Backfill backfill =
                    Backfill.builder(sessions).actor(Actor.process("liquibase")).build()) {
                for (String job : names()) {
                    FinishResult finished = backfill.finish(job, null, false, "liquibase");
                    if (!finished.finished()) {
                        throw new CustomChangeException(
                                finished.next() == null
                                        ? finished.message()
                                        : finished.message() + " ("
                                                + finished.next().clause() + ")");
                    }
                }
            }
        } catch (CustomChangeException e) {
            throw e;
        } catch (Exception e) {
            throw new CustomChangeException("cannot finish the backfills: " + e.getMessage(), e);
        }
    }

    private String[] names() {
        return Arrays.stream(jobs.split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .toArray(String[]::new);
    }

    @Override
    public String getConfirmationMessage() {
        return "finished the backfills " + jobs + " (their contract steps run)";
    }

    @Override
    public void setUp() {}

    @Override
    public void setFileOpener(ResourceAccessor resourceAccessor) {}

    @Override
    public ValidationErrors validate(Database database) {
        ValidationErrors errors = new ValidationErrors();
        if (jobs == null || jobs.isBlank()) {
            errors.addError("FinishBackfills needs a 'jobs' parameter: the backfills to finish");
        }
        return errors;
    }
}
