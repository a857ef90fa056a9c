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
        Transformer find(String name);

        default String searched() {
            return "the transformer catalogue given to the engine";
        }
    }
}
