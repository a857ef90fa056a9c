package dev.sluice.engine.chunk;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import dev.sluice.engine.keyset.Column;

/**
 * The end of a copy's INSERT, {@code ON CONFLICT (key) DO UPDATE SET c = excluded.c, ...}: a range copied again (after
 * a crash, a repair, a re-run) converges on the same rows instead of failing. When every column is a key column
 * there is nothing to update: {@code DO NOTHING}.
 */
public final class Upsert {

    private Upsert() {}

    /** @param conflictKeys the target's unique columns that receive the source key */
    public static String clause(Collection<Column> columns, List<Column> conflictKeys) {
        List<String> updates = new ArrayList<>();
        for (Column col : columns) {
            if (!conflictKeys.contains(col)) {
                updates.add(col.quoted() + " = excluded." + col.quoted());
            }
        }
        return " ON CONFLICT ("
                + String.join(", ", conflictKeys.stream().map(Column::quoted).toList()) + ") DO "
                + (updates.isEmpty() ? "NOTHING" : "UPDATE SET " + String.join(", ", updates));
    }
}
