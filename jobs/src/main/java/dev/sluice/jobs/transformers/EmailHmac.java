package dev.sluice.jobs.transformers;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import dev.sluice.engine.chunk.Transformer;

/**
 * {@code transformer: email-hmac}: writes {@code email_hmac}, the hex HMAC-SHA256 of the normalised (trimmed,
 * lower-cased) {@code email}, keyed with {@code SLUICE_HMAC_KEY} from the environment: a join key for analytics
 * that does not reveal the address and cannot be reversed by hashing a list of guesses without the key. The key
 * never comes from the spec, so it is never recorded in the job repository.
 */
public final class EmailHmac implements Transformer {

    public static final String NAME = "email-hmac";
    public static final String KEY_VARIABLE = "SLUICE_HMAC_KEY";
    // Shorter keys make the HMAC guessable by brute force; 32 bytes matches SHA-256's own strength.
    static final int MIN_KEY_BYTES = 32;

    private final byte[] key;

    public EmailHmac() {
        this(System.getenv(KEY_VARIABLE));
    }

    EmailHmac(String key) {
        this.key = key == null ? null : key.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public List<String> reads() {
        return List.of("email");
    }

    @Override
    public List<String> writes() {
        return List.of("email_hmac");
    }

    @Override
    public void ready() {
        if (key == null || key.length < MIN_KEY_BYTES) {
            throw new IllegalStateException(KEY_VARIABLE + " must hold a key of at least " + MIN_KEY_BYTES + " bytes"
                    + (key == null ? " (it is not set)" : " (it holds " + key.length + ")"));
        }
    }

    @Override
    public Map<String, Object> transform(Row row) {
        ready();
        String email = row.text("email");
        Map<String, Object> out = new HashMap<>();
        out.put("email_hmac", email == null ? null : hmac(email.trim().toLowerCase(Locale.ROOT)));
        return out;
    }

    String hmac(String normalised) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(normalised.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JRE", e);
        }
    }
}
