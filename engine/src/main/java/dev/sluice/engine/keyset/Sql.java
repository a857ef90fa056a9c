package dev.sluice.engine.keyset;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HexFormat;

/** Quoting of identifiers, so that a catalog name is never parsed as anything but a name; and names of our own. */
public final class Sql {

    private Sql() {}

    /** {@code "name"}, with embedded quotes doubled, exactly as PostgreSQL's {@code quote_ident} would force it. */
    public static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    /**
     * The first {@code bytes} bytes of the SHA-256 of {@code text}, in hex: what keeps a name Sluice derives for an
     * object of its own (from a job's name, a column's) unique and short enough for PostgreSQL's 63 bytes.
     */
    public static String digest(String text, int bytes) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JRE", e);
        }
    }

    /**
     * The condition that the {@code pg_locks} row {@code alias} is a granted advisory lock of the bigint key {@code key}
     * (an SQL expression) in this database, as PostgreSQL shows one: the key's two halves in {@code classid} and
     * {@code objid}, {@code objsubid} 1.
     */
    public static String advisoryLockHeld(String alias, String key) {
        return alias + ".locktype = 'advisory' AND " + alias + ".granted AND " + alias + ".objsubid = 1 AND ((" + alias
                + ".classid::bigint << 32) | " + alias + ".objid::bigint) = " + key + " AND " + alias
                + ".database = (SELECT oid FROM pg_database WHERE datname = current_database())";
    }

    /**
     * Whether {@code relation} (schema-qualified and quoted as SQL writes it) exists, on the caller's connection: how a
     * reader asks for a table of the job repository that an older version did not create.
     */
    public static boolean exists(Connection c, String relation) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            ps.setString(1, relation);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }
}
