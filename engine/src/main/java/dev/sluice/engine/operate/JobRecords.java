package dev.sluice.engine.operate;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

import javax.sql.DataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.chunk.Transaction;
import dev.sluice.engine.control.Audit;
import dev.sluice.engine.keyset.Sql;
import dev.sluice.engine.launch.EngineContext;
import dev.sluice.engine.launch.Launcher;
import dev.sluice.engine.spec.SpecException;

/**
 * {@code forget}: a job's records deleted from the job repository once nothing of it is left to undo or finish, under
 * its runner lock (no runner starts meanwhile), in one transaction with its audit row.
 */
public final class JobRecords {

    // The states whose work has ended for good: nothing resumes them.
    private static final Set<JobStatus.State> ENDED = EnumSet.of(
            JobStatus.State.FINISHED,
            JobStatus.State.ROLLED_BACK,
            JobStatus.State.CANCELLED,
            JobStatus.State.NOT_STARTED);

    private final EngineContext context;
    private final DataSource dataSource;
    private final String schema;

    public JobRecords(EngineContext context) {
        this.context = context;
        this.dataSource = context.dataSource();
        this.schema = context.schema();
    }

    /**
     * Forgets job {@code name}, or says why not (nothing deleted).
     *
     * @throws SpecException (bad input) when the database holds no record of such a job
     */
    public Backfill.ControlResult forget(String name, Audit.Entry audit) throws SQLException {
        Launcher launcher = context.launcher();
        try (Launcher.RunnerHold hold = launcher.new RunnerHold(name)) {
            if (!recorded(name)) {
                throw new SpecException("JOB", "no job named " + name + " is recorded in this database");
            }
            if (hold.lock() == null) {
                return refused("job " + name + " is running" + launcher.holder(name) + "; nothing forgotten");
            }
            context.runs().ensureSchema(); // an older repository gets its newer tables (the audit trail)
            JobStatus s = context.status(name);
            Optional<String> why = kept(name, s);
            if (why.isPresent()) {
                return refused("job " + name + " is not forgotten: " + why.get());
            }
            int executions;
            try (Connection c = dataSource.getConnection()) {
                executions = Transaction.run(c, tx -> {
                    int n = context.runs().forget(tx, name);
                    audit.end(tx, "done", "forgotten: " + n + " execution(s) deleted");
                    return n;
                });
            } catch (SQLException | RuntimeException e) {
                audit.rolledBack();
                throw e;
            }
            return new Backfill.ControlResult(
                    true,
                    "job " + name + " is forgotten: its records (" + executions
                            + " execution(s)) are deleted; its audit trail stays ('sluice history " + name + "')");
        }
    }

    private static Backfill.ControlResult refused(String message) {
        return new Backfill.ControlResult(false, message);
    }

    /** Why the job's records must stay, if they must. */
    private Optional<String> kept(String name, JobStatus s) throws SQLException {
        if (!ENDED.contains(s.state())) {
            return Optional.of("it is " + s.state() + "; only a job FINISHED and purged, ROLLED_BACK, CANCELLED or"
                    + " never run can be forgotten (finish it with --purge, or roll it back, first)");
        }
        if (s.sync() != null && s.sync().installed()) {
            return Optional.of("its sync trigger is still on " + s.sync().table()
                    + " (roll it back or finish it first: forgetting it would leave the trigger unowned)");
        }
        if (s.undo() != null && s.undo().rows() > 0) {
            return Optional.of("its undo journal still holds " + s.undo().rows() + " row(s), the only way back to"
                    + " what it overwrote (roll it back, or finish it with --purge, first)");
        }
        if (setAside(name)) {
            return Optional.of("columns its contract set aside are still on the table (finish it with --purge, or"
                    + " roll it back, first)");
        }
        return Optional.empty();
    }

    /** Whether a drop-columns step of the job set columns aside that no purge has dropped. */
    private boolean setAside(String name) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT EXISTS (SELECT 1 FROM " + Sql.quote(schema)
                        + ".contract_steps s WHERE s.job = ? AND s.kind = 'drop-columns' AND s.state = 'DONE')"
                        + " AND NOT EXISTS (SELECT 1 FROM " + Sql.quote(schema)
                        + ".job_lifecycle l WHERE l.job = ? AND l.purged_at IS NOT NULL)")) {
            ps.setString(1, name);
            ps.setString(2, name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /**
     * Whether the job repository holds anything of the job: a run, a request, a tuning, an audit row. Reads only (a
     * repository made by an older version may lack some of these tables: only those there are asked).
     */
    private boolean recorded(String name) throws SQLException {
        String s = Sql.quote(schema);
        try (Connection c = dataSource.getConnection()) {
            if (!Sql.exists(c, s + ".batch_job_instance")) {
                return false;
            }
            StringBuilder sql = new StringBuilder("SELECT EXISTS (SELECT 1 FROM " + s
                    + ".batch_job_instance WHERE job_name = ? OR job_name LIKE ? ESCAPE '\\')");
            int tables = 0;
            for (String table : new String[] {"audit", "job_control", "job_tuning", "job_lifecycle"}) {
                if (Sql.exists(c, s + "." + table)) {
                    sql.append(" OR EXISTS (SELECT 1 FROM ")
                            .append(s)
                            .append('.')
                            .append(table)
                            .append(" WHERE job = ?)");
                    tables++;
                }
            }
            try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                ps.setString(1, name);
                ps.setString(2, name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ".%");
                for (int i = 0; i < tables; i++) {
                    ps.setString(3 + i, name);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getBoolean(1);
                }
            }
        }
    }
}
