package dev.sluice.engine.spi;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Teams' jars built against the transformer interface's old name ({@code dev.sluice.engine.chunk.Transformer}, before
 * 0.2) keep working for one release: their catalogues are loaded under the old service name, and each transformer
 * they return is seen through the new interface. Removed with the old name.
 */
@SuppressWarnings("removal")
final class LegacyCatalogs {

    /** The service the old jars register, for ServiceLoader. */
    static final Class<dev.sluice.engine.chunk.Transformer.Catalog> SERVICE =
            dev.sluice.engine.chunk.Transformer.Catalog.class;

    private LegacyCatalogs() {}

    /** The team's class behind an adapter, or the object's own class. */
    static Class<?> origin(Object o) {
        if (o instanceof AdaptedCatalog c) {
            return c.old().getClass();
        }
        return o instanceof Adapted t ? t.old().getClass() : o.getClass();
    }

    static Transformer.Catalog adapt(dev.sluice.engine.chunk.Transformer.Catalog old) {
        return new AdaptedCatalog(old);
    }

    /** An old catalogue through the new interface. */
    private record AdaptedCatalog(dev.sluice.engine.chunk.Transformer.Catalog old) implements Transformer.Catalog {
        @Override
        public Transformer find(String name) {
            dev.sluice.engine.chunk.Transformer found = old.find(name);
            return found == null ? null : new Adapted(found);
        }

        @Override
        public String searched() {
            return old.searched();
        }
    }

    /** An old transformer through the new interface; its options' errors become the new {@link BadOption}. */
    private record Adapted(dev.sluice.engine.chunk.Transformer old) implements Transformer {

        @Override
        public List<String> reads() {
            return old.reads();
        }

        @Override
        public List<String> writes() {
            return old.writes();
        }

        @Override
        public List<String> readsIfPresent() {
            return old.readsIfPresent();
        }

        @Override
        public Set<String> options() {
            return old.options();
        }

        @Override
        public Transformer with(Map<String, String> options) {
            try {
                return new Adapted(old.with(options));
            } catch (dev.sluice.engine.chunk.Transformer.BadOption e) {
                throw new BadOption(e.option(), e.getMessage());
            }
        }

        @Override
        public void ready() {
            try {
                old.ready();
            } catch (dev.sluice.engine.chunk.Transformer.BadOption e) {
                throw new BadOption(e.option(), e.getMessage());
            }
        }

        @Override
        public Map<String, Object> transform(Row row) {
            return old.transform(new dev.sluice.engine.chunk.Transformer.Row() {
                @Override
                public String text(String column) {
                    return row.text(column);
                }

                @Override
                public Object value(String column) {
                    return row.value(column);
                }
            });
        }

        @Override
        public Check check() {
            return old.check() == null ? null : Check.valueOf(old.check().name());
        }
    }
}
