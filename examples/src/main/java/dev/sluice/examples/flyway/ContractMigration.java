package dev.sluice.examples.flyway;

import java.sql.Statement;
import java.util.List;

import dev.sluice.engine.Actor;
import dev.sluice.engine.Backfill;
import dev.sluice.engine.FinishResult;

import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * A Flyway migration for the contract step of an expand-contract change: it runs its statements only once every
 * backfill it names is done ({@link Backfill#require}: COMPLETED or FINISHED, validated clean, its sync trigger in
 * step). Until then the migration fails with Sluice's one-line reason, and Flyway rolls it back and stops: the
 * next deployment tries again. Once they are done, it finishes them ({@link Backfill#finish}: their sync triggers
 * dropped, then their specs' contract steps run, each lock-safe, recorded and reversible by {@code sluice rollback}
 * until {@code sluice finish --purge}) and runs its own statements, if any. Subclass it as
 * {@code db.migration.V7__Drop_old_email}.
 */
public abstract class ContractMigration extends BaseJavaMigration {

    /** The backfills this contract step waits for, by job name. */
    protected abstract List<String> backfills();

    /**
     * Statements of the migration's own, run in its transaction once the backfills are finished: none by default, the
     * jobs' contract steps do the lock-safe part.
     */
    protected List<String> statements() {
        return List.of();
    }

    @Override
    public void migrate(Context context) throws Exception {
        // Through Flyway's own DataSource (the same database and job repository), on connections of their own: the
        // triggers are dropped in short transactions, not in this migration's.
        try (Backfill backfill = Backfill.builder(context.getConfiguration().getDataSource())
                .actor(Actor.process("flyway"))
                .build()) {
            backfill.require(backfills().toArray(String[]::new));
            // The point of no return: a finished job keeps no trigger, whatever the statements below come to.
            for (String job : backfills()) {
                // The job's contract steps (its spec's contract: NOT NULL, indexes, constraints, columns set aside),
                // each lock-safe and recorded: Flyway's history records that the contract ran, and a migration that
                // failed half way goes on from the step it stopped in when it is run again.
                FinishResult finished = backfill.finish(job, null, false, "flyway " + getVersion());
                if (!finished.finished()) {
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
