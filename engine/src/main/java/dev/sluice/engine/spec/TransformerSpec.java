package dev.sluice.engine.spec;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * {@code transformer:} in a spec: the name of a Java transformer, the table's column for each of the transformer's
 * own column names ({@code columns: { phone: mobile }}; a name not mapped is the table's column of the same name),
 * and the transformer's options ({@code with: { default-region: DE }}). Written either as the name alone (the short
 * form) or as a mapping.
 */
public record TransformerSpec(String name, Map<String, String> columns, Map<String, String> with) {

    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public TransformerSpec {
        columns = columns == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(columns));
        with = with == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(with));
    }

    /** The short form, {@code transformer: phone-e164}. */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static TransformerSpec named(String name) {
        return new TransformerSpec(name, null, null);
    }

    /** Written as the name alone (or with no columns or options). */
    @JsonIgnore
    public boolean isShortForm() {
        return columns.isEmpty() && with.isEmpty();
    }

    /** The table's column for the transformer's column {@code own}. */
    public String column(String own) {
        return columns.getOrDefault(own, own);
    }

    /**
     * What the semantic digest records: the name alone for the short form (as jobs recorded before columns and
     * options existed did, so that those still resume), else every part. A mapping of a name to itself writes
     * nothing different, so it is left out.
     */
    Object digestForm() {
        Map<String, String> renamed = new TreeMap<>();
        columns.forEach((own, table) -> {
            if (!own.equals(table)) {
                renamed.put(own, table);
            }
        });
        if (renamed.isEmpty() && with.isEmpty()) {
            return name;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("columns", renamed);
        m.put("with", new TreeMap<>(with));
        return m;
    }

    @Override
    public String toString() {
        return name;
    }
}
