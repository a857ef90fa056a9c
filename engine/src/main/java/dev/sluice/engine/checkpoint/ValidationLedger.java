package dev.sluice.engine.checkpoint;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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

    private final RangeCheck validator;

    public ValidationLedger(RangeCheck validator) {
        this.validator = validator;
    }

    @Override
    public void apply(Connection c, KeyRange range, ExecutionContext ec) throws SQLException {
        List<RuleResult> sofar = results(ec);
        Map<String, Integer> wanted = new HashMap<>();
        for (RuleResult r : sofar) {
            wanted.put(r.rule(), Validator.SAMPLES - r.samples().size());
        }
        List<RuleResult> chunk = validator.check(c, range, wanted);
        List<RuleResult> merged = new ArrayList<>();
        for (RuleResult r : chunk) {
            RuleResult before = sofar.stream().filter(s -> s.rule().equals(r.rule())).findFirst().orElse(null);
            merged.add(before == null ? r : before.plus(r));
        }
        ec.putString(RESULTS, JSON.writeValueAsString(merged));
    }

    /** The results recorded in a validation step's context (empty before the first chunk). */
    public static List<RuleResult> results(ExecutionContext ec) {
        return ec.containsKey(RESULTS) ? JSON.readValue(ec.getString(RESULTS), new TypeReference<List<RuleResult>>() { })
                : List.of();
    }
}
