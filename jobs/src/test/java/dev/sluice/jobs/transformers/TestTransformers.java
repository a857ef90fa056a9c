package dev.sluice.jobs.transformers;

import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.sluice.engine.spi.Transformer;

/** Transformers only tests use, found through the catalog's ServiceLoader extension point. */
public final class TestTransformers implements Transformer.Catalog {

    /** {@code n = n + 1} in Java: not idempotent, so a chunk applied twice shows. */
    static final class Increment implements Transformer {
        @Override
        public List<String> reads() {
            return List.of("n");
        }

        @Override
        public List<String> writes() {
            return List.of("n");
        }

        @Override
        public Map<String, Object> transform(Row row) {
            return Map.of("n", ((Number) row.value("n")).longValue() + 1);
        }
    }

    /** {@code s_upper = upper(s)} in Java, which declares its own check: run again and compared. */
    static final class UpperCopy implements Transformer {
        @Override
        public List<String> reads() {
            return List.of("s");
        }

        @Override
        public List<String> writes() {
            return List.of("s_upper");
        }

        @Override
        public Map<String, Object> transform(Row row) {
            String s = row.text("s");
            return Collections.singletonMap("s_upper", s == null ? null : s.toUpperCase(Locale.ROOT));
        }

        @Override
        public Check check() {
            return Check.RECOMPUTE;
        }
    }

    @Override
    public Transformer find(String name) {
        return switch (name) {
            case "increment" -> new Increment();
            case "upper-copy" -> new UpperCopy();
            default -> null;
        };
    }
}
