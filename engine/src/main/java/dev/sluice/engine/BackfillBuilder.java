package dev.sluice.engine;

import java.sql.DriverManager;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import dev.sluice.engine.spi.Connector;
import dev.sluice.engine.spi.Transformer;

/** The settings of a {@link Backfill}, each with a default: {@code Backfill.builder(dataSource).schema("ops").build()}. */
public final class BackfillBuilder {

    private static final Pattern SCHEMA = Pattern.compile("[a-z_][a-z0-9_]*");

    final DataSource dataSource;
    String schema = "sluice";
    Transformer.Catalog transformers = Transformer.Catalog.installed(null);
    Connector sources = DriverManager::getConnection;

    BackfillBuilder(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Where the job repository's tables live in the target database (default {@code sluice}). */
    public BackfillBuilder schema(String name) {
        if (!SCHEMA.matcher(name).matches()) {
            throw new IllegalArgumentException("schema '" + name + "' must be a lower-case SQL identifier");
        }
        this.schema = name;
        return this;
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

    public Backfill build() {
        return new Backfill(this);
    }
}
