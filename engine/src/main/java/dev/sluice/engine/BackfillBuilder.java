package dev.sluice.engine;

import java.sql.DriverManager;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import dev.sluice.engine.spi.Connector;
import dev.sluice.engine.spi.Transformer;

/** The settings of a {@link Backfill}, each with a default: {@code Backfill.builder(dataSource).schema("ops").build()}. */
public final class BackfillBuilder {

    // A plain lower-case identifier, used unquoted in SQL, that PostgreSQL keeps whole (NAMEDATALEN - 1 bytes).
    private static final Pattern SCHEMA = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    final DataSource dataSource;
    String schema = "sluice";
    Transformer.Catalog transformers = Transformer.Catalog.installed(null);
    Connector sources = DriverManager::getConnection;
    Actor actor = Actor.process("library");

    BackfillBuilder(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Where the job repository's tables live in the target database (default {@code sluice}). */
    public BackfillBuilder schema(String name) {
        checkSchema(name);
        this.schema = name;
        return this;
    }

    /**
     * The rule for the job repository's schema name, for a front end to check its own option with before it builds a
     * Backfill: a plain lower-case SQL identifier of at most 63 characters.
     *
     * @throws IllegalArgumentException saying what the name must be
     */
    public static void checkSchema(String name) {
        if (name == null || !SCHEMA.matcher(name).matches()) {
            throw new IllegalArgumentException(
                    "'" + name + "' must be a lower-case SQL identifier ([a-z_][a-z0-9_]*, at most 63 characters)");
        }
    }

    /** Where the Java transformers that specs name are found (default: the catalogues on the class path). */
    public BackfillBuilder transformers(Transformer.Catalog catalog) {
        this.transformers = catalog;
        return this;
    }

    /** Opens connections to the {@code source.jdbc-url} of cross-database copies (with their credentials). */
    public BackfillBuilder sources(Connector connector) {
        this.sources = connector;
        return this;
    }

    /** Who the audit trail records as acting (default: this process's user and host, via {@code library}). */
    public BackfillBuilder actor(Actor actor) {
        this.actor = java.util.Objects.requireNonNull(actor, "actor");
        return this;
    }

    public Backfill build() {
        return new Backfill(this);
    }
}
