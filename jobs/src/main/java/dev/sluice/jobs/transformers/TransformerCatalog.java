package dev.sluice.jobs.transformers;

import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.function.Supplier;

import dev.sluice.engine.chunk.Transformer;

/**
 * The Java transformers this build ships, by the name specs use ({@code transformer: phone-e164}). To add one:
 * write a class implementing {@link Transformer} in this package and add it here, or ship a
 * {@link Transformer.Catalog} in a jar of your own, registered in
 * {@code META-INF/services/dev.sluice.engine.chunk.Transformer$Catalog}, and put it on the classpath.
 */
public final class TransformerCatalog implements Transformer.Catalog {

    public static final TransformerCatalog INSTANCE = new TransformerCatalog();

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
        for (Transformer.Catalog more : ServiceLoader.load(Transformer.Catalog.class)) {
            Transformer t = more.find(name);
            if (t != null) {
                return t;
            }
        }
        return null;
    }

    public java.util.Set<String> names() {
        return transformers.keySet();
    }
}
