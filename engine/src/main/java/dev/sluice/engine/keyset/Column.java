package dev.sluice.engine.keyset;

/**
 * A column as the catalog describes it.
 *
 * @param type      {@code format_type} of the column with its modifier, for people ({@code character varying(20)})
 * @param castType  the type without modifier, for casting key values back from text without truncating them
 * @param collation schema-qualified, quoted collation, or null for types that have none
 */
public record Column(String name, String type, String castType, boolean notNull, boolean generated, String collation) {

    public String quoted() {
        return Sql.quote(name);
    }
}
