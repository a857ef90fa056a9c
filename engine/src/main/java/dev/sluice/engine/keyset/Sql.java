package dev.sluice.engine.keyset;

/** Quoting of identifiers, so that a catalog name is never parsed as anything but a name. */
public final class Sql {

    private Sql() {}

    /** {@code "name"}, with embedded quotes doubled, exactly as PostgreSQL's {@code quote_ident} would force it. */
    public static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }
}
