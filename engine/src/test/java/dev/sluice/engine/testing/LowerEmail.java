package dev.sluice.engine.testing;

import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.sluice.engine.spi.Transformer;

/** The Java transformer of the tests' email tables: {@code email_lower} is {@code email} in lower case. */
public final class LowerEmail implements Transformer {

    @Override
    public List<String> reads() {
        return List.of("email");
    }

    @Override
    public List<String> writes() {
        return List.of("email_lower");
    }

    @Override
    public Map<String, Object> transform(Row row) {
        return Map.of("email_lower", row.text("email").toLowerCase(Locale.ROOT));
    }
}
