package dev.sluice.engine.preflight;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import dev.sluice.engine.Finding;
import dev.sluice.engine.health.HealthGates;
import dev.sluice.engine.health.Reading;
import dev.sluice.engine.health.Signal;
import dev.sluice.engine.spec.JobSpec;

/**
 * What the job's health signals read that this role cannot see. PostgreSQL shows another role's rows of its statistics
 * views only to members of {@code pg_read_all_stats} (which {@code pg_monitor} includes) and superusers: without it a
 * vacuum of another role (autovacuum's) hides its table, a standby streaming as another role hides its replay
 * position, and another role's session hides its state. Such a signal works in a test and fails the day it matters
 * (it holds the job as unreadable, or counts too little), so {@code plan} warns up front, naming the signal and the
 * grant.
 */
final class HealthAccess {

    private static final String SEES_ALL =
            "SELECT current_user, pg_has_role(current_user, 'pg_read_all_stats', 'USAGE')";

    private HealthAccess() {}

    /** Warnings for the signals {@code health} turns on that this role cannot fully read; none with the grant. */
    static List<Finding> check(Connection c, JobSpec.Health health) throws SQLException {
        String role;
        try (PreparedStatement ps = c.prepareStatement(SEES_ALL);
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            if (rs.getBoolean(2)) {
                return List.of();
            }
            role = rs.getString(1);
        }
        String grant = "; grant it: GRANT pg_read_all_stats TO " + role + " (or pg_monitor)";
        List<Finding> out = new ArrayList<>();
        if (health.autovacuum()) {
            out.add(Finding.warn(
                    "health",
                    "health.autovacuum: role " + role + " cannot see which table another role's"
                            + " vacuum works on in pg_stat_progress_vacuum (autovacuum's included): while one runs in this"
                            + " database the signal cannot be read and holds the job" + grant));
        }
        out.add(Finding.warn(
                "health",
                "health.replica-lag: role " + role + " cannot see the replay position of a"
                        + " standby that streams as another role in pg_stat_replication: such a standby holds the job as"
                        + " unreadable" + grant));
        if (health.activeSessions().max() > 0) {
            out.add(Finding.warn(
                    "health",
                    "health.active-sessions: role " + role + " cannot see whether another"
                            + " role's sessions are active in pg_stat_activity: they are not counted" + grant));
        }
        return out;
    }

    /**
     * What the services {@code health} reads (Prometheus, a throttle endpoint) answer now: a signal that cannot be read
     * is a warning, not a refusal (the service may be back by the time the job runs), for the job would hold on it.
     */
    static List<Finding> services(JobSpec.Health health) {
        List<Finding> out = new ArrayList<>();
        for (Signal s : HealthGates.services(health)) {
            try {
                for (Reading r : s.read()) {
                    out.add(Finding.ok("health", r.describeNow()));
                }
            } catch (Exception e) {
                out.add(Finding.warn(
                        "health",
                        "cannot read " + s.name() + " now (" + e.getMessage()
                                + "): the job holds until it can be read"));
            }
        }
        return out;
    }
}
