package dev.sluice.jobs.cli;

import java.util.regex.Pattern;

/** Keeps passwords out of logs and output. */
public final class Masking {

    private static final Pattern PASSWORD_PARAMETER = Pattern.compile("(?i)(password=)[^&;]*");
    private static final Pattern USER_INFO = Pattern.compile("(//[^/:@]+:)[^@/]*@");

    private Masking() {
    }

    /** The JDBC URL with any password replaced by {@code ***}. */
    public static String mask(String jdbcUrl) {
        String masked = PASSWORD_PARAMETER.matcher(jdbcUrl).replaceAll("$1***");
        return USER_INFO.matcher(masked).replaceAll("$1***@");
    }
}
