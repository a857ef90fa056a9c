package dev.sluice.jobs.transformers;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import dev.sluice.engine.spi.Transformer;

/**
 * {@code transformer: email-hmac}: writes {@code email_hmac}, the hex HMAC-SHA256 of the normalised (trimmed,
 * lower-cased) {@code email}, keyed with the environment variable {@code SLUICE_HMAC_KEY} (or the one
 * {@code with: { key-env: NAME }} names): a join key for analytics that does not reveal the address and cannot be
 * reversed by hashing a list of guesses without the key. The key never comes from the spec, only the variable's
 * name does, so it is never recorded in the job repository. {@code with: { rounds: N }} stretches it: the HMAC is
 * applied N times over its own output (default 1), so that each guess an attacker with the key tries costs N times as
 * much, and so does each row (the CPU-heavy transform the scale-out benchmark measures).
 */
public final class EmailHmac implements Transformer {

    public static final String NAME = "email-hmac";
    public static final String KEY_VARIABLE = "SLUICE_HMAC_KEY";
    // Shorter keys make the HMAC guessable by brute force; 32 bytes matches SHA-256's own strength.
    static final int MIN_KEY_BYTES = 32;

    static final String KEY_ENV_OPTION = "key-env";
    static final String ROUNDS_OPTION = "rounds";
    static final int MAX_ROUNDS = 1_000_000;
    private static final Pattern VARIABLE = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final String variable;
    private final byte[] key;
    private final int rounds;

    public EmailHmac() {
        this(KEY_VARIABLE, System.getenv(KEY_VARIABLE));
    }

    EmailHmac(String variable, String key) {
        this(variable, key, 1);
    }

    private EmailHmac(String variable, String key, int rounds) {
        this.variable = variable;
        this.key = key == null ? null : key.getBytes(StandardCharsets.UTF_8);
        this.rounds = rounds;
    }

    @Override
    public Set<String> options() {
        return Set.of(KEY_ENV_OPTION, ROUNDS_OPTION);
    }

    @Override
    public Transformer with(Map<String, String> options) {
        int n = rounds(options.get(ROUNDS_OPTION));
        String name = options.get(KEY_ENV_OPTION);
        if (name == null) {
            return n == rounds
                    ? this
                    : new EmailHmac(variable, key == null ? null : new String(key, StandardCharsets.UTF_8), n);
        }
        if (!VARIABLE.matcher(name).matches()) {
            throw new BadOption(
                    KEY_ENV_OPTION,
                    "'" + name + "' is not an environment variable's name (letters, digits"
                            + " and _, not starting with a digit); give the variable's name, never the key itself");
        }
        return new EmailHmac(name, System.getenv(name), n);
    }

    private int rounds(String given) {
        if (given == null) {
            return rounds;
        }
        try {
            int n = Integer.parseInt(given.strip());
            if (n >= 1 && n <= MAX_ROUNDS) {
                return n;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new BadOption(ROUNDS_OPTION, "must be a whole number from 1 to " + MAX_ROUNDS + ", got '" + given + "'");
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
            throw new BadOption(
                    KEY_ENV_OPTION,
                    "the environment variable " + variable + " must hold a key of at least " + MIN_KEY_BYTES + " bytes"
                            + (key == null ? " (it is not set)" : " (it holds fewer)"));
        }
    }

    /** The same row gives the same value: a validation runs it again and compares (without rules of the spec's). */
    @Override
    public Check check() {
        return Check.RECOMPUTE;
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
            byte[] h = mac.doFinal(normalised.getBytes(StandardCharsets.UTF_8));
            for (int i = 1; i < rounds; i++) {
                h = mac.doFinal(h);
            }
            return HexFormat.of().formatHex(h);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JRE", e);
        }
    }
}
