package dev.sluice.engine.sync;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import javax.sql.DataSource;

import dev.sluice.engine.Key;
import dev.sluice.engine.KeyRange;
import dev.sluice.engine.chunk.ChunkLedger;
import dev.sluice.engine.chunk.ChunkTimeouts;
import dev.sluice.engine.chunk.TextArrays;
import dev.sluice.engine.chunk.Transaction;
import dev.sluice.engine.chunk.WritePlan;
import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Keyset;

/**
 * Re-applies the job to the keys its sync trigger logged (Java transformer, cross-database copy): with every chunk,
 * the logged keys at or below the chunk's upper bound (the keys above it are still ahead of the walk, which will
 * read them as they are then); after the last chunk, all of them; and on every later run.
 *
 * <p>A drain step claims a batch of log entries (marks them with a token of its own), applies the job's own writer
 * to the claimed keys only (the plan {@link WritePlan#filtered filtered} to them), and deletes the entries. In one
 * database all three share the chunk's transaction, so they commit together with its checkpoint or not at all. For
 * a cross-database copy the log is in the source: the claim commits there first, the copy commits in the target
 * with the chunk, and the claimed entries are deleted only once the target has committed (the tokens are kept in
 * the chunk's notes, which commit with it, and deleted by the next transaction); a lost transaction leaves its
 * entries to be claimed again. Applying a key
 * twice writes the same row twice: the job is a function of the row.
 */
public final class KeyLogDrain implements ChunkLedger {

    // One chunk's worth of keys per step: a step adds about one chunk of work to the chunk it rides with.
    static final int BATCH = 1000;
    // After the last chunk, at most this many steps in one transaction; the rest waits for the next run (a busy
    // table would otherwise keep the last transaction open forever).
    public static final int LAST_STEPS = 100;
    private static final String APPLIED_TOKENS = "sync.appliedClaims";

    private final SyncNames names;
    private final Keyset keyset;
    private final WritePlan plan;
    private final DataSource source;
    private final String keys;

    /**
     * @param plan   the job's write plan
     * @param source the source database of a cross-database copy (where the log is), else null
     */
    public KeyLogDrain(SyncNames names, WritePlan plan, DataSource source) {
        this.names = names;
        this.keyset = plan.keyset();
        this.plan = plan;
        this.source = source;
        this.keys = keyset.columns().stream()
                .map(Column::quoted)
                .reduce((a, b) -> a + ", " + b)
                .orElseThrow();
    }

    @Override
    public void apply(Connection c, KeyRange range, Notes notes) throws SQLException {
        deleteApplied(notes.get(APPLIED_TOKENS));
        List<String> tokens = new ArrayList<>();
        step(c, range.hi(), tokens);
        applied(notes, tokens);
    }

    @Override
    public void finish(Connection c, Key last, Notes notes) throws SQLException {
        deleteApplied(notes.get(APPLIED_TOKENS));
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < LAST_STEPS; i++) {
            if (step(c, null, tokens) < BATCH) {
                break;
            }
        }
        applied(notes, tokens);
    }

    /**
     * Drains the log in transactions of its own on {@code target} (under the job's chunk timeouts), until it is
     * empty or {@link #LAST_STEPS} steps found a full batch each (the application keeps writing).
     *
     * @return the keys drained
     */
    public long drain(DataSource target, ChunkTimeouts timeouts) throws SQLException {
        return drain(target, timeouts, LAST_STEPS);
    }

    /** {@link #drain(DataSource, ChunkTimeouts)}, in at most {@code steps} steps (of a batch of keys each). */
    public long drain(DataSource target, ChunkTimeouts timeouts, int steps) throws SQLException {
        long total = 0;
        for (int i = 0; i < steps; i++) {
            long claimed;
            List<String> tokens = new ArrayList<>();
            try (Connection c = target.getConnection()) {
                claimed = Transaction.run(c, tx -> {
                    timeouts.apply(tx);
                    return step(tx, null, tokens);
                });
            }
            deleteApplied(String.join(",", tokens)); // committed just now
            total += claimed;
            if (claimed < BATCH) {
                break;
            }
        }
        return total;
    }

    /**
     * Drains the whole log in the caller's transaction on {@code c} (one database: the target's), which holds the
     * table against the application's writes ({@code finish}, before it drops the trigger): until it is empty.
     *
     * @return the keys drained
     */
    public long drainAll(Connection c) throws SQLException {
        if (source != null) {
            throw new IllegalStateException("a cross-database copy's log is drained from its own transactions");
        }
        long total = 0;
        List<String> tokens = new ArrayList<>();
        for (long claimed = step(c, null, tokens); claimed > 0; claimed = step(c, null, tokens)) {
            total += claimed;
        }
        return total;
    }

    /**
     * The tokens whose entries this transaction applied, kept in its notes (changed last, so they commit with it):
     * the next transaction deletes their entries in the source, once this one is known to have committed.
     */
    private void applied(Notes notes, List<String> tokens) {
        if (source != null) {
            notes.put(APPLIED_TOKENS, tokens.isEmpty() ? null : String.join(",", tokens));
        }
    }

    /**
     * One step in the caller's transaction on the target; returns how many log entries it claimed. In one database
     * it deletes them too; across databases it adds its token to {@code tokens}, for deletion after the commit.
     *
     * @param hi the chunk's upper bound during the walk; null after it, for every key there is
     */
    private long step(Connection c, Key hi, List<String> tokens) throws SQLException {
        String token = UUID.randomUUID().toString();
        long claimed;
        if (source == null) {
            claimed = claim(c, token, hi);
        } else {
            try (Connection s = source.getConnection()) {
                claimed = claim(s, token, hi); // committed at once: the target's transaction may still be lost
            }
        }
        if (claimed == 0) {
            return 0;
        }
        // After the walk, the greatest key read after the claim: a row is written before its key is logged, in one
        // transaction, so every claimed key that still exists lies at or below it.
        Key upTo = hi != null ? hi : lastKey(c);
        if (upTo != null) {
            // The token is a UUID this class made: a literal that cannot be anything else. Both sides compared in
            // the key index's collations (inside the subquery the names are the log's), so that each logged key is
            // looked up in the index, not matched against every row behind the walk.
            String logged = keyset.tuple() + " IN (SELECT " + keyset.orderBy(false) + " FROM " + names.log()
                    + " WHERE sluice_claim = '" + token + "')";
            plan.filtered(logged).writer().write(c, new KeyRange(null, upTo, claimed));
        }
        if (source != null) {
            deleteGone(c, token);
            tokens.add(token);
        } else {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + names.log() + " WHERE sluice_claim = ?")) {
                ps.setString(1, token);
                ps.executeUpdate();
            }
        }
        return claimed;
    }

    /**
     * Claims a batch of entries: during the walk only keys at or below the chunk's upper bound {@code hi}, so that
     * with parallel partitions a partition never claims (and deletes) a key that lies behind another partition's
     * checkpoint but above its own chunk; after the walk ({@code hi} null) any key.
     */
    private long claim(Connection c, String token, Key hi) throws SQLException {
        String bounded = hi == null ? "" : " WHERE " + keyset.tuple() + " <= " + keyset.parameters();
        try (PreparedStatement ps =
                c.prepareStatement("UPDATE " + names.log() + " SET sluice_claim = ? WHERE sluice_id IN"
                        + " (SELECT sluice_id FROM " + names.log() + bounded + " ORDER BY sluice_id LIMIT " + BATCH
                        + " FOR UPDATE SKIP LOCKED)")) {
            ps.setString(1, token);
            if (hi != null) {
                keyset.bind(ps, 2, hi);
            }
            return ps.executeUpdate();
        }
    }

    /** Deletes, in the source, the entries claimed with {@code tokens} (comma-separated), whose copy committed. */
    private void deleteApplied(String tokens) throws SQLException {
        if (tokens == null || tokens.isEmpty() || source == null) {
            return;
        }
        try (Connection s = source.getConnection();
                PreparedStatement ps =
                        s.prepareStatement("DELETE FROM " + names.log() + " WHERE sluice_claim = ANY (?)")) {
            ps.setArray(1, s.createArrayOf("text", tokens.split(",")));
            ps.executeUpdate();
        }
    }

    /**
     * A cross-database copy: the claimed keys whose row is gone from the source (deleted, its key changed, or out of
     * the filter) are deleted from the target too, wherever they are: ahead of the walk a target row may exist from
     * an earlier run, and after the walk the greatest key may be the one deleted.
     */
    private void deleteGone(Connection target, String token) throws SQLException {
        WritePlan.Copy copy = (WritePlan.Copy) plan;
        List<String> onLog = new ArrayList<>();
        List<String> asText = new ArrayList<>();
        for (Column k : keyset.columns()) {
            onLog.add("l." + k.quoted());
            asText.add("l." + k.quoted() + "::text");
        }
        String sql = "SELECT " + String.join(", ", asText) + " FROM " + names.log() + " AS l WHERE l.sluice_claim = ?"
                + " AND NOT EXISTS (SELECT 1 FROM " + keyset.table().qualifiedName() + " WHERE (" + keys + ") = ("
                + String.join(", ", onLog) + ")" + (copy.where() == null ? "" : " AND (" + copy.where() + ")") + ")";
        List<String[]> gone = new ArrayList<>();
        try (Connection s = source.getConnection();
                PreparedStatement ps = s.prepareStatement(sql)) {
            ps.setString(1, token);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    gone.add(keyset.read(rs, 1).values().toArray(String[]::new));
                }
            }
        }
        if (gone.isEmpty()) {
            return;
        }
        List<String> match = new ArrayList<>();
        List<String> arrays = new ArrayList<>();
        List<String> aliases = new ArrayList<>();
        for (int i = 0; i < copy.conflict().size(); i++) {
            Column receiving = copy.conflict().get(i);
            match.add("t." + receiving.quoted() + " = CAST(v.k" + i + " AS " + receiving.castType() + ")");
            arrays.add("?::text[]");
            aliases.add("k" + i);
        }
        // The keys are looked up in the target's index, one by one, whatever the planner estimates of the array.
        ChunkTimeouts.withNestedLoops(target, () -> {
            try (PreparedStatement ps = target.prepareStatement("DELETE FROM "
                    + copy.target().qualifiedName() + " AS t"
                    + " USING unnest(" + String.join(", ", arrays) + ") AS v(" + String.join(", ", aliases) + ") WHERE "
                    + String.join(" AND ", match))) {
                TextArrays.bind(target, ps, 1, gone, keyset.width());
                ps.executeUpdate();
            }
        });
    }

    /** The table's greatest key now (after the walk, the drain covers every row), or null for an empty table. */
    private Key lastKey(Connection c) throws SQLException {
        if (source != null) {
            try (Connection s = source.getConnection()) {
                return top(s);
            }
        }
        return top(c);
    }

    private Key top(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + keyset.textList() + " FROM "
                        + keyset.table().qualifiedName() + " ORDER BY " + keyset.orderBy(true) + " LIMIT 1");
                ResultSet rs = ps.executeQuery()) {
            return rs.next() ? keyset.read(rs, 1) : null;
        }
    }
}
