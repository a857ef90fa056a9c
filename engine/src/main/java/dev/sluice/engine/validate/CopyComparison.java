package dev.sluice.engine.validate;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import dev.sluice.engine.Key;
import dev.sluice.engine.KeyRange;
import dev.sluice.engine.Mismatch;
import dev.sluice.engine.RuleResult;
import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Keyset;
import dev.sluice.engine.keyset.Table;

/**
 * Validates a copy: per key range, the row count and an order-independent hash (the sum of 64-bit row hashes)
 * of the mapped columns, computed on the source (the expressions, cast to the target's types) and on the target;
 * only a range whose count or hash differ is read row by row, to name the rows missing in the target, extra in
 * the target (also above the source's last key, unless the source has the row by then), or with different values. Rows travel as text in a form where NULL and '' differ
 * ({@code quote_nullable}).
 */
public final class CopyComparison implements RangeCheck {

    public static final String MISSING = "missing in target";
    public static final String EXTRA = "extra in target";
    public static final String DIFFERENT = "different values";

    private final Keyset keyset;
    private final DataSource source;
    private final String[] sourceRows;
    private final String[] targetRows;
    private final String targetAll;
    private final String targetAbove;

    /**
     * @param columns      target column to source expression (safe for JDBC), in target column order
     * @param receivingKey the target columns that receive the source key, in key order
     * @param where        the spec's filter (safe for JDBC), or null
     * @param source       the source database of a cross-database copy, or null when source and target share one
     */
    public CopyComparison(
            Keyset keyset,
            Table target,
            Map<Column, String> columns,
            List<Column> receivingKey,
            String where,
            DataSource source) {
        this.keyset = keyset;
        this.source = source;
        List<String> sourceValues = new ArrayList<>();
        List<String> targetValues = new ArrayList<>();
        columns.forEach((col, expr) -> {
            // The target column's full type, modifier included: numeric(12,2) rounds as the copy did.
            sourceValues.add("quote_nullable(CAST((" + expr + ") AS " + col.type() + ")::text)");
            targetValues.add("quote_nullable(" + col.quoted() + "::text)");
        });
        String sourceKey = keyText(keyset.columns());
        String targetKey = keyText(receivingKey);
        String src = "SELECT " + sourceKey + " AS k, concat_ws(',', " + String.join(", ", sourceValues) + ") AS r FROM "
                + keyset.table().qualifiedName() + " WHERE ";
        String srcTail = where == null ? "" : " AND (" + where + ")";
        this.sourceRows = new String[keyset.shapes()];
        for (int shape = 0; shape < sourceRows.length; shape++) {
            sourceRows[shape] = src + keyset.rangePredicate(shape, (String) null) + srcTail;
        }
        String tgt = "SELECT " + targetKey + " AS k, concat_ws(',', " + String.join(", ", targetValues) + ") AS r FROM "
                + target.qualifiedName() + " WHERE ";
        this.targetRows = new String[keyset.shapes()];
        for (int shape = 0; shape < targetRows.length; shape++) {
            targetRows[shape] = tgt + targetRange(receivingKey, shape);
        }
        // In one database, a target row whose source row exists by now is not extra: a row the application inserted
        // (and the sync trigger copied) after the walk read the source's last key. Across databases the drain
        // copies after the source commits, so a target row read first has its source row already.
        String gone = source != null
                ? "true"
                : "NOT EXISTS (SELECT 1 FROM " + keyset.table().qualifiedName()
                        + " sluice_s WHERE " + keyset.tuple("sluice_s") + " = "
                        + targetTuple(receivingKey, target.qualifiedName() + ".")
                        + srcTail + ")";
        this.targetAll = tgt + gone;
        this.targetAbove = tgt + targetTuple(receivingKey) + " > " + keyset.parameters() + " AND " + gone;
    }

    private static String keyText(List<Column> key) {
        return "concat_ws(',', "
                + String.join(
                        ", ",
                        key.stream()
                                .map(k -> "quote_literal(" + k.quoted() + "::text)")
                                .toList()) + ")";
    }

    /** The range over the target's key columns, compared in the source index's ordering and types. */
    private String targetRange(List<Column> receivingKey, int shape) {
        return keyset.rangePredicate(shape, i -> targetColumn(receivingKey, i, ""));
    }

    private String targetTuple(List<Column> receivingKey) {
        return targetTuple(receivingKey, "");
    }

    private String targetTuple(List<Column> receivingKey, String qualifier) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < receivingKey.size(); i++) {
            parts.add(targetColumn(receivingKey, i, qualifier));
        }
        return "(" + String.join(", ", parts) + ")";
    }

    /** Target column {@code i} of the key, cast to the source key's type, in its index's collation. */
    private String targetColumn(List<Column> receivingKey, int i, String qualifier) {
        String collation = keyset.index().parts().get(i).collation();
        String cast = "CAST(" + qualifier + receivingKey.get(i).quoted() + " AS "
                + keyset.columns().get(i).castType() + ")";
        return collation == null ? cast : cast + " COLLATE " + collation;
    }

    /** Target rows above the source's last key (every target row when the source has none): all extra. */
    @Override
    public List<RuleResult> beyond(Connection c, Key last, Map<String, Integer> wanted) throws SQLException {
        String rows = last == null ? targetAll : targetAbove;
        long count;
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM (" + rows + ") x")) {
            bind(ps, last);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                count = rs.getLong(1);
            }
        }
        List<Mismatch> samples = new ArrayList<>();
        int limit = Math.min(wanted.getOrDefault(EXTRA, Validator.SAMPLES), Validator.SAMPLES);
        if (count > 0 && limit > 0) {
            try (PreparedStatement ps = c.prepareStatement(rows + " ORDER BY 1 LIMIT " + limit)) {
                bind(ps, last);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        samples.add(new Mismatch(List.of(rs.getString(1)), rs.getString(2), null));
                    }
                }
            }
        }
        return List.of(new RuleResult(EXTRA, 0, count, samples));
    }

    private void bind(PreparedStatement ps, Key last) throws SQLException {
        if (last != null) {
            keyset.bind(ps, 1, last);
        }
    }

    @Override
    public List<RuleResult> check(Connection c, KeyRange range, Map<String, Integer> wanted) throws SQLException {
        try (Connection other = this.source == null ? null : this.source.getConnection()) {
            return check(other == null ? c : other, c, range, wanted);
        }
    }

    private List<RuleResult> check(Connection s, Connection c, KeyRange range, Map<String, Integer> wanted)
            throws SQLException {
        int shape = keyset.shape(range);
        // In the same database both sides are read by one statement, and so from one snapshot: read in two, a row
        // the application changed in between (the mirror trigger changes the target with it) would be counted as
        // different though the two never differed.
        boolean oneSnapshot = s == c;
        long[] source;
        long[] target;
        if (oneSnapshot) {
            long[] both = summaries(c, sourceRows[shape], targetRows[shape], range);
            source = new long[] {both[0], both[1]};
            target = new long[] {both[2], both[3]};
        } else {
            source = summary(s, sourceRows[shape], range);
            target = summary(c, targetRows[shape], range);
        }
        if (source[0] == target[0] && source[1] == target[1]) {
            return List.of(
                    new RuleResult(MISSING, source[0], 0, List.of()),
                    new RuleResult(EXTRA, source[0], 0, List.of()),
                    new RuleResult(DIFFERENT, source[0], 0, List.of()));
        }
        Map<String, String> src = new LinkedHashMap<>();
        Map<String, String> tgt = new LinkedHashMap<>();
        if (oneSnapshot) {
            rows(c, sourceRows[shape], targetRows[shape], range, src, tgt);
        } else {
            src = rows(s, sourceRows[shape], range);
            tgt = rows(c, targetRows[shape], range);
        }
        List<Mismatch> missing = new ArrayList<>();
        List<Mismatch> extra = new ArrayList<>();
        List<Mismatch> different = new ArrayList<>();
        long missingCount = 0;
        long extraCount = 0;
        long differentCount = 0;
        for (Map.Entry<String, String> e : src.entrySet()) {
            String t = tgt.get(e.getKey());
            if (t == null) {
                missingCount++;
                add(missing, wanted, MISSING, new Mismatch(List.of(e.getKey()), null, e.getValue()));
            } else if (!t.equals(e.getValue())) {
                differentCount++;
                add(different, wanted, DIFFERENT, new Mismatch(List.of(e.getKey()), t, e.getValue()));
            }
        }
        for (Map.Entry<String, String> e : tgt.entrySet()) {
            if (!src.containsKey(e.getKey())) {
                extraCount++;
                add(extra, wanted, EXTRA, new Mismatch(List.of(e.getKey()), e.getValue(), null));
            }
        }
        return List.of(
                new RuleResult(MISSING, source[0], missingCount, missing),
                new RuleResult(EXTRA, source[0], extraCount, extra),
                new RuleResult(DIFFERENT, source[0], differentCount, different));
    }

    private static void add(List<Mismatch> list, Map<String, Integer> wanted, String rule, Mismatch m) {
        if (list.size() < Math.min(wanted.getOrDefault(rule, Validator.SAMPLES), Validator.SAMPLES)) {
            list.add(m);
        }
    }

    private static final String SUMMARY =
            "SELECT count(*) AS n, coalesce(sum(hashtextextended(k || ':' || r, 0)" + "::numeric), 0)::text AS h FROM ";

    private long[] summary(Connection c, String rows, KeyRange range) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SUMMARY + "(" + rows + ") x")) {
            keyset.bind(ps, 1, range);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new long[] {rs.getLong(1), hash(rs.getString(2))};
            }
        }
    }

    /** Both sides' summaries ({@link #summary}) in one statement: from one snapshot. */
    private long[] summaries(Connection c, String sourceRows, String targetRows, KeyRange range) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT a.n, a.h, b.n, b.h FROM (" + SUMMARY + "(" + sourceRows
                + ") x) a, (" + SUMMARY + "(" + targetRows + ") y) b")) {
            keyset.bind(ps, keyset.bind(ps, 1, range), range);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new long[] {rs.getLong(1), hash(rs.getString(2)), rs.getLong(3), hash(rs.getString(4))};
            }
        }
    }

    private static long hash(String sum) {
        return new BigDecimal(sum).remainder(BigDecimal.valueOf(Long.MAX_VALUE)).longValue();
    }

    /** Both sides' rows, by key, in one statement (from one snapshot), into {@code src} and {@code tgt}. */
    private void rows(
            Connection c,
            String sourceRows,
            String targetRows,
            KeyRange range,
            Map<String, String> src,
            Map<String, String> tgt)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT s.k, s.r, t.k, t.r FROM (" + sourceRows
                + ") s FULL JOIN (" + targetRows + ") t ON s.k = t.k ORDER BY coalesce(s.k, t.k)")) {
            keyset.bind(ps, keyset.bind(ps, 1, range), range);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (rs.getString(1) != null) {
                        src.put(rs.getString(1), rs.getString(2));
                    }
                    if (rs.getString(3) != null) {
                        tgt.put(rs.getString(3), rs.getString(4));
                    }
                }
            }
        }
    }

    private Map<String, String> rows(Connection c, String rows, KeyRange range) throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement(rows + " ORDER BY 1")) {
            keyset.bind(ps, 1, range);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getString(2));
                }
            }
        }
        return out;
    }
}
