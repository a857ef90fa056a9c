package dev.sluice.engine.spi;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.function.Function;

/**
 * The transformer catalogues that jars on the class path register for ServiceLoader (a team's own transformers,
 * shipped in a jar of their own), asked in class path order. A catalogue that cannot be loaded or made, or that fails
 * looking a name up (a static initializer that throws, a class it needs missing from the class path, a class that is
 * not a catalogue), is a {@link BrokenCatalog} naming its class and jar: Java throws Errors there, which nothing
 * between here and the operator would catch.
 */
final class InstalledCatalogs implements Transformer.Catalog {

    private final Class<?> except;

    /** @param except a catalogue that asks these itself, left out so that it is not asked again by them; or null */
    InstalledCatalogs(Class<?> except) {
        this.except = except;
    }

    @Override
    public Transformer find(String name) {
        for (Transformer.Catalog catalog : load()) {
            Transformer found;
            try {
                found = catalog.find(name);
            } catch (RuntimeException | LinkageError e) {
                Class<?> origin = TeamJars.origin(catalog);
                throw new BrokenCatalog(
                        "the transformer catalogue " + origin.getName() + " (in " + TeamJars.of(origin)
                                + ") failed looking up '" + name + "': " + TeamJars.describe(e),
                        e);
            }
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    @Override
    public String searched() {
        List<String> jars = TeamJars.registered().entrySet().stream()
                .filter(e -> except == null || !e.getKey().equals(except.getName()))
                .map(e -> e.getValue() + " (" + e.getKey() + ")")
                .toList();
        return jars.isEmpty()
                ? "no transformer catalogue on the class path"
                : "the catalogues on the class path: " + String.join(", ", jars);
    }

    private List<Transformer.Catalog> load() {
        List<Transformer.Catalog> all = new ArrayList<>();
        load(Transformer.Catalog.class, catalog -> catalog, all);
        load(LegacyCatalogs.SERVICE, LegacyCatalogs::adapt, all); // jars built against the old name
        return all;
    }

    private <T> void load(Class<T> service, Function<T, Transformer.Catalog> asCatalog, List<Transformer.Catalog> all) {
        Iterator<ServiceLoader.Provider<T>> providers =
                ServiceLoader.load(service).stream().iterator();
        while (true) {
            ServiceLoader.Provider<T> provider;
            try {
                if (!providers.hasNext()) {
                    return;
                }
                provider = providers.next();
            } catch (ServiceConfigurationError e) {
                throw broken(TeamJars.provider(e), e);
            }
            try {
                if (except == null || !except.getName().equals(provider.type().getName())) {
                    all.add(asCatalog.apply(provider.get()));
                }
            } catch (ServiceConfigurationError | LinkageError | RuntimeException e) {
                throw broken(e instanceof ServiceConfigurationError s ? TeamJars.provider(s) : null, e);
            }
        }
    }

    private static BrokenCatalog broken(String provider, Throwable e) {
        String which = provider == null
                ? "a transformer catalogue on the class path"
                : "the transformer catalogue " + TeamJars.named(provider);
        return new BrokenCatalog(which + " cannot be loaded: " + TeamJars.describe(e), e);
    }

    /** A catalogue of a team's jar that cannot work in this process, said in one line naming its class and jar. */
    static final class BrokenCatalog extends IllegalStateException {
        BrokenCatalog(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
