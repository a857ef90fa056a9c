package dev.sluice.jobs.transformers;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;

import dev.sluice.engine.spi.Transformer;

/**
 * The Java transformers this build ships, by the name specs use ({@code transformer: phone-e164}), then those of
 * every catalogue on the class path. To add one: ship a {@link Transformer.Catalog} in a jar of your own,
 * registered in {@code META-INF/services/dev.sluice.engine.spi.Transformer$Catalog}, and put the jar on the class
 * path (docs/transformers.md). This catalogue registers itself there too, so that a {@code Backfill} built with
 * {@link Transformer.Catalog#installed} (the Spring Boot starter's) finds the built-in ones.
 */
public final class TransformerCatalog implements Transformer.Catalog {

    public static final TransformerCatalog INSTANCE = new TransformerCatalog();
    // The class path's other catalogues (this one left out: it is registered there too).
    private static final Transformer.Catalog INSTALLED = Transformer.Catalog.installed(TransformerCatalog.class);

    private final Map<String, Supplier<Transformer>> transformers = new TreeMap<>(Map.of(
            PhoneE164.NAME, PhoneE164::new,
            ProfileJsonV2.NAME, ProfileJsonV2::new,
            EmailHmac.NAME, EmailHmac::new,
            EmailLowerDollars.NAME, EmailLowerDollars::new));

    @Override
    public Transformer find(String name) {
        Supplier<Transformer> s = transformers.get(name);
        if (s != null) {
            return s.get();
        }
        return INSTALLED.find(name);
    }

    public Set<String> names() {
        return transformers.keySet();
    }

    /** Where names are looked for, and how to add a team's jar: what an operator needs when a name is not found. */
    @Override
    public String searched() {
        String lib = System.getenv("SLUICE_LIB");
        return "built in: " + String.join(", ", names()) + "; " + INSTALLED.searched() + " ("
                + (lib == null || lib.isBlank() ? "SLUICE_LIB is not set" : "SLUICE_LIB=" + lib) + "); a team's"
                + " transformers come in a jar of its own: SLUICE_LIB=/path/to/team.jar scripts/sluice ..."
                + " (docs/transformers.md)";
    }
}
