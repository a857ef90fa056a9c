package dev.sluice.examples.flyway;

import java.sql.Statement;
import java.util.List;

import dev.sluice.engine.Backfill;

import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * A Flyway migration for the contract step of an expand-contract change: it runs its statements only once every
 * backfill it names is done ({@link Backfill#require}: COMPLETED or FINISHED, validated clean, its sync trigger in
 * step). Until then the migration fails with Sluice's one-line reason, and Flyway rolls it back and stops: the
 * next deployment tries again. Once they are done, it finishes them ({@link Backfill#finish}: their sync triggers
 * dropped, lock-safe, which a DROP COLUMN of a column they read needs) and runs its statements. Subclass it as
 * {@code db.migration.V7__Drop_old_email}.
 */
public abstract class ContractMigration extends BaseJavaMigration {

    /** The backfills this contract step waits for, by job name. */
    protected abstract List<String> backfills();

    /** The contract statements, run in the migration's transaction once the backfills are done. */
    protected abstract List<String> statements();

    @Override
    public void migrate(Context context) throws Exception {
        // Through Flyway's own DataSource (the same database and job repository), on connections of their own: the
        // triggers are dropped in short transactions, not in this migration's.
        try (Backfill backfill = new Backfill(context.getConfiguration().getDataSource())) {
            backfill.require(backfills().toArray(String[]::new));
            // The point of no return: a finished job keeps no trigger, whatever the statements below come to.
            for (String job : backfills()) {
                Backfill.ControlResult finished = backfill.finish(job, "flyway " + getVersion());
                if (!finished.ok()) {
                    throw new IllegalStateException(
                            finished.next() == null
                                    ? finished.message()
                                    : finished.message() + " ("
                                            + finished.next().clause() + ")");
                }
            }
        }
        try (Statement st = context.getConnection().createStatement()) {
            for (String sql : statements()) {
                st.execute(sql);
            }
        }
    }
}
