package dev.sluice.jobs.transformers;

import java.math.BigDecimal;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.sluice.engine.spi.Transformer;

/**
 * {@code transformer: email-lower-dollars}: the benchmark's two-column transform in Java,
 * {@code email_lower = lower(email)} and {@code amount_dollars = amount_cents / 100}, the same result as the SQL
 * mode's expressions, so both modes can be compared on one table.
 */
public final class EmailLowerDollars implements Transformer {

    public static final String NAME = "email-lower-dollars";

    @Override
    public List<String> reads() {
        return List.of("email", "amount_cents");
    }

    @Override
    public List<String> writes() {
        return List.of("email_lower", "amount_dollars");
    }

    @Override
    public Map<String, Object> transform(Row row) {
        Map<String, Object> out = new HashMap<>();
        String email = row.text("email");
        out.put("email_lower", email == null ? null : email.toLowerCase(Locale.ROOT));
        Object cents = row.value("amount_cents");
        out.put("amount_dollars", cents == null ? null : new BigDecimal(cents.toString()).movePointLeft(2));
        return out;
    }
}
