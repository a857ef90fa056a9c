package dev.sluice.engine.spec;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps passwords out of everything Sluice writes: output, logs, the job repository, the status page. Passwords
 * the process was given (an option, the environment, a configuration file, a URL) are registered here, and every
 * message is passed through {@link #redact} on its way out, so that a driver's error quoting a URL or a host
 * string cannot carry one either.
 */
public final class Secrets {

    // Shorter values are too likely to occur in ordinary text; such a password is still masked wherever it
    // appears in a URL, by JdbcUrl.mask.
    private static final int MIN_LENGTH = 3;
    private static final Set<String> KNOWN = ConcurrentHashMap.newKeySet();

    private Secrets() {}

    /** Remembers a password so that it is never printed; null and blank are ignored. */
    public static void register(String secret) {
        if (secret != null && secret.length() >= MIN_LENGTH && !secret.isBlank()) {
            KNOWN.add(secret);
        }
    }

    /** The text with URL passwords masked and every registered password replaced by {@code ***}. */
    public static String redact(String text) {
        if (text == null) {
            return null;
        }
        String out = JdbcUrl.mask(text);
        for (String secret : KNOWN) {
            if (out.contains(secret)) {
                out = out.replace(secret, "***");
            }
        }
        return out;
    }
}
