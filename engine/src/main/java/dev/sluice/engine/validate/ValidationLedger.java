package dev.sluice.engine.validate;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.sluice.engine.Key;
import dev.sluice.engine.KeyRange;
import dev.sluice.engine.RuleResult;
import dev.sluice.engine.chunk.ChunkLedger;

import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * Validation as chunk work: each range is checked by the {@link RangeCheck}, and the running totals (rows
 * checked, mismatches, first mismatching rows per rule) are the chunk's notes, kept with its checkpoint, so an
 * interrupted validation resumes without counting a range twice, and its result is kept with the job.
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
    public void apply(Connection c, KeyRange range, Notes notes) throws SQLException {
        List<RuleResult> sofar = results(notes);
        record(notes, sofar, validator.check(c, range, wanted(sofar)));
    }

    @Override
    public void finish(Connection c, Key last, Notes notes) throws SQLException {
        if (notes.get(BEYOND_CHECKED) != null) {
            return;
        }
        List<RuleResult> sofar = results(notes);
        List<RuleResult> beyond = validator.beyond(c, last, wanted(sofar));
        notes.put(BEYOND_CHECKED, "yes");
        record(notes, sofar, beyond);
    }

    private static Map<String, Integer> wanted(List<RuleResult> sofar) {
        Map<String, Integer> wanted = new HashMap<>();
        for (RuleResult r : sofar) {
            wanted.put(r.rule(), Validator.SAMPLES - r.samples().size());
        }
        return wanted;
    }

    private static void record(Notes notes, List<RuleResult> sofar, List<RuleResult> found) {
        Map<String, RuleResult> merged = new LinkedHashMap<>();
        sofar.forEach(r -> merged.put(r.rule(), r));
        found.forEach(r -> merged.merge(r.rule(), r, RuleResult::plus));
        notes.put(RESULTS, JSON.writeValueAsString(List.copyOf(merged.values())));
    }

    /** The results recorded in a validation's notes (empty before the first chunk). */
    public static List<RuleResult> results(Notes notes) {
        String json = notes.get(RESULTS);
        return json != null ? JSON.readValue(json, new TypeReference<List<RuleResult>>() {}) : List.of();
    }
}
