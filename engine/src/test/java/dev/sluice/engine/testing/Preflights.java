package dev.sluice.engine.testing;

import java.sql.DriverManager;
import java.sql.SQLException;

import javax.sql.DataSource;

import dev.sluice.engine.launch.EngineContext;
import dev.sluice.engine.preflight.Prepared;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spi.Transformer;

/** Preflight as the engine's verbs see it (the prepared statements and the trigger, not only the public plan). */
public final class Preflights {

    private Preflights() {}

    /** The spec prepared against {@code ds}, with the transformers on the class path. */
    public static Prepared prepare(DataSource ds, JobSpec spec) throws SQLException {
        try (EngineContext context =
                new EngineContext(ds, "sluice", Transformer.Catalog.installed(null), DriverManager::getConnection)) {
            return context.plan(spec);
        }
    }
}
