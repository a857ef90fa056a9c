package dev.sluice.engine.preflight;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import javax.sql.DataSource;

import dev.sluice.engine.DryRunResult;
import dev.sluice.engine.Key;
import dev.sluice.engine.KeyRange;
import dev.sluice.engine.chunk.ChunkTimeouts;
import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Keyset;
import dev.sluice.engine.spec.SqlFragments;

/**
 * Applies the first chunk for real, inside a transaction that is always rolled back, and shows what it would
 * change and how long it took: testing a transformation on production data without changing production data.
 */
public final class DryRun {

    // Enough rows to eyeball a transformation, few enough to print.
    private static final int SAMPLE_ROWS = 5;

    private DryRun() {}

    /** @return the report, or null if the table has no rows */
    public static DryRunResult firstChunk(DataSource dataSource, Prepared prepared) throws SQLException {
        Keyset keyset = prepared.keyset();
        List<Column> targets = prepared.targets();
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                new ChunkTimeouts(
                                prepared.spec().timeouts().lock(),
                                prepared.spec().timeouts().statement())
                        .apply(c);
                long started = System.nanoTime();
                KeyRange range =
                        prepared.chunker().next(c, null, prepared.spec().chunk().rows());
                if (range == null) {
                    return null;
                }
                List<Key> keys = sampleKeys(c, keyset, range, prepared.spec().where());
                List<List<String>> before = values(c, keyset, targets, keys);
                long written = prepared.plan().unjournaled().writer().write(c, range); // rolled back: no journal
                double seconds = (System.nanoTime() - started) / 1e9;
                List<List<String>> after = values(c, keyset, targets, keys);
                List<DryRunResult.Sample> samples = new ArrayList<>();
                for (int i = 0; i < keys.size(); i++) {
                    samples.add(new DryRunResult.Sample(keys.get(i), before.get(i), after.get(i)));
                }
                return new DryRunResult(
                        range,
                        written,
                        seconds,
                        targets.stream().map(Column::name).toList(),
                        samples);
            } finally {
                c.rollback();
            }
        }
    }

    private static List<Key> sampleKeys(Connection c, Keyset keyset, KeyRange range, String where) throws SQLException {
        String sql = "SELECT " + keyset.textList() + " FROM " + keyset.table().qualifiedName() + " WHERE "
                + keyset.rangePredicate(0, (String) null)
                + (where == null ? "" : " AND (" + SqlFragments.forJdbc(where) + ")")
                + " ORDER BY " + keyset.orderBy(false) + " LIMIT " + SAMPLE_ROWS;
        List<Key> keys = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            keyset.bind(ps, 1, new KeyRange(null, range.hi(), range.rows()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    keys.add(keyset.read(rs, 1));
                }
            }
        }
        return keys;
    }

    private static List<List<String>> values(Connection c, Keyset keyset, List<Column> targets, List<Key> keys)
            throws SQLException {
        String sql = "SELECT "
                + String.join(
                        ", ", targets.stream().map(t -> t.quoted() + "::text").toList()) + " FROM "
                + keyset.table().qualifiedName() + " WHERE " + keyset.tuple() + " = " + keyset.parameters();
        List<List<String>> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (Key key : keys) {
                keyset.bind(ps, 1, key);
                List<String> row = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        for (int i = 1; i <= targets.size(); i++) {
                            row.add(rs.getString(i));
                        }
                    }
                }
                out.add(row);
            }
        }
        return out;
    }
}
