package dev.sluice.engine.validate;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;

import dev.sluice.engine.keyset.KeyRange;

/** Checks one key range and says what it found, per rule. */
public interface RangeCheck {

    /** @param wanted how many more samples each rule wants, by rule name */
    List<RuleResult> check(Connection c, KeyRange range, Map<String, Integer> wanted) throws SQLException;
}
