package dev.sluice.engine.chunk;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The transformer interface as teams' jars built before 0.2 know it. Deprecated: implement
 * {@link dev.sluice.engine.spi.Transformer} and register catalogues under
 * {@code META-INF/services/dev.sluice.engine.spi.Transformer$Catalog}. A jar built against this name keeps working
 * for one more release: catalogues registered under {@code META-INF/services/dev.sluice.engine.chunk.Transformer$Catalog}
 * are still loaded, and their transformers adapted to the new interface. The shapes below are the old ones, unchanged,
 * so that such a jar links.
 *
 * @deprecated since 0.2, for removal in 0.3: use {@link dev.sluice.engine.spi.Transformer}
 */
@Deprecated(since = "0.2", forRemoval = true)
public interface Transformer {

    /** @see dev.sluice.engine.spi.Transformer#reads() */
    List<String> reads();

    /** @see dev.sluice.engine.spi.Transformer#writes() */
    List<String> writes();

    /** @see dev.sluice.engine.spi.Transformer#readsIfPresent() */
    default List<String> readsIfPresent() {
        return List.of();
    }

    /** @see dev.sluice.engine.spi.Transformer#options() */
    default Set<String> options() {
        return Set.of();
    }

    /** @see dev.sluice.engine.spi.Transformer#with(Map) */
    default Transformer with(Map<String, String> options) {
        return this;
    }

    /** @see dev.sluice.engine.spi.Transformer#ready() */
    default void ready() {}

    /** @see dev.sluice.engine.spi.Transformer#transform */
    Map<String, Object> transform(Row row);

    /** @see dev.sluice.engine.spi.Transformer#check() */
    default Check check() {
        return null;
    }

    /** @see dev.sluice.engine.spi.Transformer.Check */
    enum Check {
        RECOMPUTE
    }

    /** @see dev.sluice.engine.spi.Transformer.Row */
    interface Row {
        String text(String column);

        Object value(String column);
    }

    /** @see dev.sluice.engine.spi.Transformer.BadOption */
    final class BadOption extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        private final String option;

        public BadOption(String option, String reason) {
            super(reason);
            this.option = option;
        }

        public String option() {
            return option;
        }
    }

    /** @see dev.sluice.engine.spi.Transformer.Catalog */
    @FunctionalInterface
    interface Catalog {
        /** @see dev.sluice.engine.spi.Transformer.Catalog#EMPTY */
        Catalog EMPTY = name -> null;

        Transformer find(String name);

        default String searched() {
            return "the transformer catalogue given to the engine";
        }

        /** @see dev.sluice.engine.spi.Transformer.Catalog#installed */
        static Catalog installed(Class<? extends Catalog> except) {
            dev.sluice.engine.spi.Transformer.Catalog all = dev.sluice.engine.spi.Transformer.Catalog.installed(except);
            return new Catalog() {
                @Override
                public Transformer find(String name) {
                    dev.sluice.engine.spi.Transformer found = all.find(name);
                    return found == null ? null : new OldView(found);
                }

                @Override
                public String searched() {
                    return all.searched();
                }
            };
        }

        /** @see dev.sluice.engine.spi.Transformer.Catalog#chain */
        static Catalog chain(List<Catalog> catalogs) {
            List<Catalog> all = List.copyOf(catalogs);
            return new Catalog() {
                @Override
                public Transformer find(String name) {
                    return all.stream()
                            .map(c -> c.find(name))
                            .filter(java.util.Objects::nonNull)
                            .findFirst()
                            .orElse(null);
                }

                @Override
                public String searched() {
                    return String.join("; ", all.stream().map(Catalog::searched).toList());
                }
            };
        }
    }

    /**
     * A transformer of the new interface seen through the old one, for an old jar's catalogue that asks the installed
     * catalogues itself ({@link Catalog#installed}).
     */
    final class OldView implements Transformer {
        private final dev.sluice.engine.spi.Transformer inner;

        OldView(dev.sluice.engine.spi.Transformer inner) {
            this.inner = inner;
        }

        @Override
        public List<String> reads() {
            return inner.reads();
        }

        @Override
        public List<String> writes() {
            return inner.writes();
        }

        @Override
        public List<String> readsIfPresent() {
            return inner.readsIfPresent();
        }

        @Override
        public Set<String> options() {
            return inner.options();
        }

        @Override
        public Transformer with(Map<String, String> options) {
            try {
                return new OldView(inner.with(options));
            } catch (dev.sluice.engine.spi.Transformer.BadOption e) {
                throw new BadOption(e.option(), e.getMessage());
            }
        }

        @Override
        public void ready() {
            try {
                inner.ready();
            } catch (dev.sluice.engine.spi.Transformer.BadOption e) {
                throw new BadOption(e.option(), e.getMessage());
            }
        }

        @Override
        public Map<String, Object> transform(Row row) {
            return inner.transform(new dev.sluice.engine.spi.Transformer.Row() {
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
            return inner.check() == null ? null : Check.valueOf(inner.check().name());
        }
    }
}
