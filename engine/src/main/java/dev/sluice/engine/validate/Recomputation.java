package dev.sluice.engine.validate;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.sluice.engine.KeyRange;
import dev.sluice.engine.Mismatch;
import dev.sluice.engine.RuleResult;
import dev.sluice.engine.chunk.JavaWriter;
import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Keyset;
import dev.sluice.engine.spi.Transformer;

/**
 * A Java transformer's own check ({@link Transformer.Check#RECOMPUTE}): a range's rows are read and transformed
 * again as a chunk of the backfill reads them (every row of the range, whatever the spec's {@code where}), and what
 * the transformer returns is compared on the server with what each row holds: both as the column's type prints them,
 * the new value cast to the column's type first, as the writer stores it. So a value the writer would have stored
 * differently spelled ({@code 1.5} in a {@code numeric(12,2)}) is not a mismatch, and no value is compared in Java.
 * One read and one comparing statement per range; a rule per written column, named after it.
 */
public final class Recomputation implements RangeCheck {

    private final Keyset keyset;
    private final List<Column> writes;
    private final JavaWriter reader;
    private final String unless;
    private final String[] compare;

    /**
     * @param transformer the transformer as the job runs it (over the table's column names)
     * @param reads       the columns it reads
     * @param writes      the columns it writes
     */
    public Recomputation(Keyset keyset, Transformer transformer, List<Column> reads, List<Column> writes) {
        this(keyset, writes, JavaWriter.reader(keyset, transformer, reads, writes), null);
    }

    private Recomputation(Keyset keyset, List<Column> writes, JavaWriter reader, String unless) {
        this.keyset = keyset;
        this.writes = List.copyOf(writes);
        this.reader = reader;
        this.unless = unless;
        this.compare = new String[keyset.shapes()];
        for (int shape = 0; shape < compare.length; shape++) {
            compare[shape] = compare(shape);
        }
    }

    /**
     * The same check, not counting the rows {@code pending} (SQL over the table) selects: rows whose keys wait in the
     * sync key log, which the runner re-applies next; they are behind, not wrong.
     */
    public Recomputation unless(String pending) {
        return new Recomputation(keyset, writes, reader, pending);
    }

    @Override
    public List<RuleResult> check(Connection c, KeyRange range, Map<String, Integer> wanted) throws SQLException {
        JavaWriter.Read read = reader.read(c, range);
        long[] mismatches = new long[writes.size()];
        List<List<Mismatch>> samples = new ArrayList<>();
        writes.forEach(w -> samples.add(new ArrayList<>()));
        if (read.size() > 0) {
            try (PreparedStatement ps = c.prepareStatement(compare[keyset.shape(range)])) {
                keyset.bind(ps, read.bind(ps, 1, true), range);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        List<String> key = keyset.read(rs, 1).values();
                        for (int i = 0; i < writes.size(); i++) {
                            int at = keyset.width() + 1 + 3 * i;
                            if (!rs.getBoolean(at)) {
                                continue;
                            }
                            mismatches[i]++;
                            String rule = writes.get(i).name();
                            if (samples.get(i).size()
                                    < Math.min(wanted.getOrDefault(rule, Validator.SAMPLES), Validator.SAMPLES)) {
                                samples.get(i).add(new Mismatch(key, rs.getString(at + 1), rs.getString(at + 2)));
                            }
                        }
                    }
                }
            }
        }
        List<RuleResult> results = new ArrayList<>();
        for (int i = 0; i < writes.size(); i++) {
            results.add(new RuleResult(writes.get(i).name(), read.rowsRead(), mismatches[i], samples.get(i)));
        }
        return results;
    }

    /**
     * The rows of the range, joined to what the transformer returned for them, that differ in a column it set: for
     * each written column, whether it differs, what the row holds, and what it would hold.
     */
    private String compare(int shape) {
        List<String> names = new ArrayList<>();
        List<String> arrays = new ArrayList<>();
        List<String> keyEq = new ArrayList<>();
        for (int i = 0; i < keyset.width(); i++) {
            Column k = keyset.columns().get(i);
            names.add("sluice_k" + i);
            arrays.add("?::text[]");
            keyEq.add("t." + k.quoted() + " = CAST(v.sluice_k" + i + " AS " + k.castType() + ")");
        }
        List<String> columns = new ArrayList<>();
        List<String> differs = new ArrayList<>();
        for (int i = 0; i < writes.size(); i++) {
            Column w = writes.get(i);
            names.add("sluice_w" + i);
            arrays.add("?::text[]");
            names.add("sluice_s" + i);
            arrays.add("?::boolean[]");
            String recomputed = "CAST(CAST(v.sluice_w" + i + " AS " + w.castType() + ") AS text)";
            String differ =
                    "(v.sluice_s" + i + " AND CAST(t." + w.quoted() + " AS text) IS DISTINCT FROM " + recomputed + ")";
            differs.add(differ);
            columns.add(differ + ", CAST(t." + w.quoted() + " AS text), " + recomputed);
        }
        List<String> keyText = new ArrayList<>();
        for (Column k : keyset.columns()) {
            keyText.add("CAST(t." + k.quoted() + " AS text)");
        }
        return "SELECT " + String.join(", ", keyText) + ", " + String.join(", ", columns) + " FROM "
                + keyset.table().qualifiedName() + " AS t JOIN unnest(" + String.join(", ", arrays) + ") AS v("
                + String.join(", ", names) + ") ON " + String.join(" AND ", keyEq) + " WHERE "
                + keyset.rangePredicate(shape, "t") + " AND (" + String.join(" OR ", differs) + ")"
                + (unless == null ? "" : " AND NOT (" + unless + ")") + " ORDER BY " + keyset.orderBy(false);
    }
}
