package dev.sluice.engine.sync;

import dev.sluice.engine.keyset.Sql;

/**
 * The names of a job's sync objects: its trigger function and key log in Sluice's schema, its triggers on the
 * table. Derived from the job's name alone, so that any process (status, finish) finds them.
 *
 * @param base the job's name when it fits PostgreSQL's 63-byte identifiers with a prefix and a suffix, else its
 *             first 40 characters and a digest of the whole name
 */
public record SyncNames(String schema, String base) {

    // "sluice_" + base + "_ins" must stay within 63 bytes (NAMEDATALEN - 1); job names are ASCII.
    private static final int MAX_BASE = 52;
    private static final int MAX_NAME = 63;

    public static SyncNames of(String schema, String job) {
        String base = job.length() <= MAX_BASE ? job : job.substring(0, 40) + "_" + digest(job);
        return new SyncNames(schema, base);
    }

    /** The trigger function, schema-qualified and quoted. */
    public String function() {
        return Sql.quote(schema) + "." + Sql.quote("sync_" + base);
    }

    /** The key log of the Java and cross-database modes, schema-qualified and quoted. */
    public String log() {
        return Sql.quote(schema) + "." + Sql.quote("sync_log_" + base);
    }

    /** In place with an undo journal: the function that journals a row the trigger computed, qualified and quoted. */
    public String journal() {
        return Sql.quote(schema) + "." + Sql.quote("sync_journal_" + base);
    }

    /** The trigger firing on {@code event} ({@code ins}, {@code upd}, {@code del}), unquoted. */
    public String trigger(String event) {
        return "sluice_" + base + "_" + event;
    }

    /**
     * A BEFORE trigger that must fire after the table's other BEFORE triggers, which PostgreSQL fires in the byte
     * order of their names: {@code ~} sorts after letters, digits and {@code _}, so only a name that begins with
     * {@code ~}, <code>{</code>, <code>|</code>, <code>}</code> or a character beyond ASCII can sort after it (preflight
     * finds those). Unquoted; kept within 63 bytes.
     */
    public String lastTrigger(String event) {
        String name = "~" + trigger(event);
        return name.length() <= MAX_NAME ? name : "~sluice_" + base.substring(0, 40) + "_" + digest(base) + "_" + event;
    }

    private static String digest(String job) {
        return Sql.digest(job, 5);
    }
}
