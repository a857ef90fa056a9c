package dev.sluice.engine.preflight;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.SQLException;

import dev.sluice.engine.Finding;
import dev.sluice.engine.spec.JdbcUrl;
import dev.sluice.engine.spec.SpecException;

/**
 * The PostgreSQL versions Sluice works on: 14 and newer, the versions its tests run on (14 to 18). Older ones lack what
 * it uses (the journal's hash is {@code hash_record_extended}, the sync trigger is installed with {@code CREATE OR
 * REPLACE TRIGGER}: both 14), and nothing on them was tried. An older server, a target or a copy's source, is refused
 * before anything is written, where otherwise its first chunk would fail on a missing function after the job was
 * recorded; a newer one is worked on, with a warning in the plan.
 */
public final class ServerVersion {

    /** The oldest major version Sluice works on. */
    public static final int OLDEST = 14;

    /** The newest major version Sluice's tests ran on. */
    public static final int NEWEST_TESTED = 18;

    private ServerVersion() {}

    /**
     * Refuses a server older than {@link #OLDEST}; says which version {@code c} reaches, for a plan.
     *
     * @param field   the field that named the database ({@code source.jdbc-url}), or empty for the target
     * @param journal whether an undo journal is written there (the target's, with {@code undo}): before 18 the plan
     *                says how it reads its pre-images
     * @throws SpecException naming the server's version and the oldest Sluice works on
     */
    public static Finding check(Connection c, String field, boolean journal) throws SQLException {
        DatabaseMetaData meta = c.getMetaData();
        int major = meta.getDatabaseMajorVersion();
        String version = meta.getDatabaseProductVersion();
        String where = field.isEmpty() ? "the database" : "the source database";
        if (major < OLDEST) {
            throw new SpecException(
                    field,
                    "database " + JdbcUrl.mask(meta.getURL()) + " runs PostgreSQL " + version + "; Sluice needs"
                            + " PostgreSQL " + OLDEST + " or newer (tested on " + OLDEST + " to " + NEWEST_TESTED
                            + ")");
        }
        if (major > NEWEST_TESTED) {
            return Finding.warn(
                    "server",
                    where + " runs PostgreSQL " + version + ", newer than the versions Sluice was tested on (" + OLDEST
                            + " to " + NEWEST_TESTED + ")");
        }
        return Finding.ok(
                "server",
                where + " runs PostgreSQL " + version
                        + (major >= 18 || !journal
                                ? ""
                                : "; without RETURNING OLD (18) the undo journal reads pre-images first"));
    }

    /** {@link #check} for the target database where nothing is reported: refuses an older server, says nothing else. */
    public static void require(Connection c) throws SQLException {
        check(c, "", false);
    }
}
