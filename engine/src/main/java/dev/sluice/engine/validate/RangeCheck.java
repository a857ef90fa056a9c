package dev.sluice.engine.validate;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;

import dev.sluice.engine.Key;
import dev.sluice.engine.KeyRange;
import dev.sluice.engine.RuleResult;

/** Checks one key range and says what it found, per rule. */
public interface RangeCheck {

    /** @param wanted how many more samples each rule wants, by rule name */
    List<RuleResult> check(Connection c, KeyRange range, Map<String, Integer> wanted) throws SQLException;

    /**
     * What lies beyond the walk's last key (null: the walk found no key at all), checked once at the end. Nothing
     * for checks of the walked rows themselves; a copy's target may hold rows no source range covers.
     */
    default List<RuleResult> beyond(Connection c, Key last, Map<String, Integer> wanted) throws SQLException {
        return List.of();
    }
}
