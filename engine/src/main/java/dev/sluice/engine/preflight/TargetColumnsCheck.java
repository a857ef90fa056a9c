package dev.sluice.engine.preflight;

import java.util.LinkedHashMap;
import java.util.Map;

import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Keyset;
import dev.sluice.engine.spec.SpecException;

/** Every {@code set} target exists, is writable, and is not part of the key that orders the job. */
final class TargetColumnsCheck {

    private TargetColumnsCheck() {}

    /** @param field the spec field the columns come from ({@code set}, or {@code transformer}) */
    static Map<Column, String> resolve(Keyset keyset, Map<String, String> set, String field) {
        Map<Column, String> resolved = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : set.entrySet()) {
            String where = field.equals("set") ? "set." + e.getKey() : field;
            Column col = keyset.table().column(e.getKey());
            if (col == null) {
                throw new SpecException(
                        where,
                        "no column '" + e.getKey() + "' in " + keyset.table().qualifiedName());
            }
            if (keyset.columns().contains(col)) {
                throw new SpecException(
                        where,
                        "'" + col.name() + "' is a key column; changing it would move rows" + " across the checkpoint");
            }
            if (col.generated()) {
                throw new SpecException(where, "'" + col.name() + "' is a generated column and cannot be set");
            }
            if (resolved.put(col, e.getValue()) != null) {
                throw new SpecException(where, "column '" + col.name() + "' is set twice");
            }
        }
        return resolved;
    }
}
