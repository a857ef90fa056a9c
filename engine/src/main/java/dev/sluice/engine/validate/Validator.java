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
import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Keyset;
import dev.sluice.engine.keyset.Sql;
import dev.sluice.engine.keyset.Table;
import dev.sluice.engine.spec.ContractStep;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.SqlFragments;

/**
 * Checks one key range against every rule with a single read: {@code count(*) FILTER (WHERE violation)} per
 * rule, then, only for rules that found mismatches and still want samples, their first rows. Validation covers
 * every row of the range, whatever the job's {@code where}: that filter says which rows still need the
 * transformation, not which rows must satisfy it afterwards.
 */
public final class Validator implements RangeCheck {

    /** Mismatching rows kept per rule for the report: enough to see the pattern, few enough to print. */
    public static final int SAMPLES = 10;

    private final Keyset keyset;
    private final List<Rule> rules;
    private final String[] countSql;

    public Validator(Keyset keyset, List<Rule> rules) {
        this.keyset = keyset;
        this.rules = List.copyOf(rules);
        this.countSql = new String[keyset.shapes()];
        for (int shape = 0; shape < countSql.length; shape++) {
            countSql[shape] = count(shape);
        }
    }

    /**
     * Resolves the spec's {@code validate} rules against the table.
     *
     * @throws SpecException naming the rule if a target column does not exist
     */
    public static List<Rule> rules(Table table, List<JobSpec.ValidationRule> specRules) {
        List<Rule> out = new ArrayList<>();
        for (int i = 0; i < specRules.size(); i++) {
            JobSpec.ValidationRule r = specRules.get(i);
            if (r.check() != null) {
                out.add(new Rule(
                        "check[" + i + "]",
                        "NOT coalesce((" + SqlFragments.forJdbc(r.check()) + "), false)",
                        null,
                        null));
                continue;
            }
            Column target = table.column(r.target());
            if (target == null) {
                throw new SpecException(
                        "validate[" + i + "].target", "no column '" + r.target() + "' in " + table.qualifiedName());
            }
            String source = "(" + SqlFragments.forJdbc(r.source()) + ")";
            out.add(new Rule(
                    target.name(),
                    target.quoted() + " IS DISTINCT FROM " + source,
                    target.quoted() + "::text",
                    source + "::text"));
        }
        return out;
    }

    /**
     * The rules a job's contract adds, so that validation (before {@code finish}) finds what would stop a step: a
     * {@code not-null} column holding NULLs, rows a {@code check} refuses. Only the steps before the first that renames
     * or sets a column aside: later ones name the table as it will be.
     */
    public static List<Rule> contractRules(List<ContractStep> contract) {
        List<Rule> out = new ArrayList<>();
        for (int i = 0; i < contract.size(); i++) {
            ContractStep step = contract.get(i);
            switch (step.kind()) {
                case NOT_NULL ->
                    out.add(new Rule(
                            "contract[" + i + "].not-null", Sql.quote(step.notNull()) + " IS NULL", null, null));
                case CHECK ->
                    out.add(new Rule(
                            "contract[" + i + "].check",
                            "(" + SqlFragments.forJdbc(step.check().expression()) + ") IS FALSE",
                            null,
                            null));
                case DROP_COLUMNS, RENAME_COLUMN -> {
                    return out;
                }
                default -> {}
            }
        }
        return out;
    }

    public List<Rule> rules() {
        return rules;
    }

    /** The statement that counts a range's mismatches, for {@code plan} and type-checking. */
    public String sql(int shape) {
        return countSql[shape];
    }

    /**
     * Checks the rows of {@code range}.
     *
     * @param wanted how many samples each rule still wants, by rule name
     */
    @Override
    public List<RuleResult> check(Connection c, KeyRange range, Map<String, Integer> wanted) throws SQLException {
        long[] counts = new long[rules.size() + 1];
        try (PreparedStatement ps = c.prepareStatement(countSql[keyset.shape(range)])) {
            keyset.bind(ps, 1, range);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                for (int i = 0; i < counts.length; i++) {
                    counts[i] = rs.getLong(i + 1);
                }
            }
        }
        List<RuleResult> results = new ArrayList<>();
        for (int i = 0; i < rules.size(); i++) {
            Rule rule = rules.get(i);
            long mismatches = counts[i + 1];
            int want = Math.min(wanted.getOrDefault(rule.name(), SAMPLES), SAMPLES);
            List<Mismatch> samples = mismatches > 0 && want > 0 ? samples(c, range, rule, want) : List.of();
            results.add(new RuleResult(rule.name(), counts[0], mismatches, samples));
        }
        return results;
    }

    private List<Mismatch> samples(Connection c, KeyRange range, Rule rule, int limit) throws SQLException {
        String values = rule.isComparison() ? ", " + rule.targetText() + ", " + rule.sourceText() : "";
        String sql = "SELECT " + keyset.textList() + values + " FROM "
                + keyset.table().qualifiedName()
                + " WHERE " + keyset.rangePredicate(keyset.shape(range), (String) null) + " AND (" + rule.violation()
                + ")"
                + " ORDER BY " + keyset.orderBy(false) + " LIMIT " + limit;
        List<Mismatch> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            keyset.bind(ps, 1, range);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    List<String> key = keyset.read(rs, 1).values();
                    out.add(
                            rule.isComparison()
                                    ? new Mismatch(
                                            key, rs.getString(keyset.width() + 1), rs.getString(keyset.width() + 2))
                                    : new Mismatch(key, null, null));
                }
            }
        }
        return out;
    }

    private String count(int shape) {
        StringBuilder sb = new StringBuilder("SELECT count(*)");
        for (Rule r : rules) {
            sb.append(", count(*) FILTER (WHERE ").append(r.violation()).append(')');
        }
        return sb.append(" FROM ")
                .append(keyset.table().qualifiedName())
                .append(" WHERE ")
                .append(keyset.rangePredicate(shape, (String) null))
                .toString();
    }
}
