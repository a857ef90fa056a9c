package dev.sluice.engine.checkpoint;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.sluice.engine.keyset.Key;
import dev.sluice.engine.keyset.KeyRange;
import dev.sluice.engine.validate.RangeCheck;
import dev.sluice.engine.validate.RuleResult;
import dev.sluice.engine.validate.Validator;

import org.springframework.batch.infrastructure.item.ExecutionContext;

import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * Validation as chunk work: each range is checked by the {@link Validator}, and the running totals (rows
 * checked, mismatches, first mismatching rows per rule) live in the step's ExecutionContext, so an interrupted
 * validation resumes without counting a range twice, and its result is kept with the job.
 */
public final class ValidationLedger implements ChunkLedger {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    static final String RESULTS = "sluice.validation";
    private static final String BEYOND_CHECKED = "sluice.validation.beyond";

    private final RangeCheck validator;

    public ValidationLedger(RangeCheck validator) {
        this.validator = validator;
    }

    @Override
    public void apply(Connection c, KeyRange range, ExecutionContext ec) throws SQLException {
        List<RuleResult> sofar = results(ec);
        record(ec, sofar, validator.check(c, range, wanted(sofar)));
    }

    @Override
    public void finish(Connection c, Key last, ExecutionContext ec) throws SQLException {
        if (ec.containsKey(BEYOND_CHECKED)) {
            return;
        }
        List<RuleResult> sofar = results(ec);
        List<RuleResult> beyond = validator.beyond(c, last, wanted(sofar));
        ec.putString(BEYOND_CHECKED, "yes");
        record(ec, sofar, beyond);
    }

    private static Map<String, Integer> wanted(List<RuleResult> sofar) {
        Map<String, Integer> wanted = new HashMap<>();
        for (RuleResult r : sofar) {
            wanted.put(r.rule(), Validator.SAMPLES - r.samples().size());
        }
        return wanted;
    }

    private static void record(ExecutionContext ec, List<RuleResult> sofar, List<RuleResult> found) {
        Map<String, RuleResult> merged = new LinkedHashMap<>();
        sofar.forEach(r -> merged.put(r.rule(), r));
        found.forEach(r -> merged.merge(r.rule(), r, RuleResult::plus));
        ec.putString(RESULTS, JSON.writeValueAsString(List.copyOf(merged.values())));
    }

    /** The results recorded in a validation step's context (empty before the first chunk). */
    public static List<RuleResult> results(ExecutionContext ec) {
        return ec.containsKey(RESULTS) ? JSON.readValue(ec.getString(RESULTS), new TypeReference<List<RuleResult>>() { })
                : List.of();
    }
}
