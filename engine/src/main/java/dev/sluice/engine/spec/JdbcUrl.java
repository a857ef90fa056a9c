package dev.sluice.engine.spec;

import java.util.Locale;
import java.util.Properties;
import java.util.regex.Pattern;

import org.postgresql.Driver;

/**
 * JDBC URLs of PostgreSQL databases as operators write them: checked with the driver's own URL parser, and shown
 * with any password hidden. A URL recorded with a job (a standby to ask, a source to copy from) must not carry a
 * password at all: credentials come from options or the environment, never from the spec.
 */
public final class JdbcUrl {

    private static final String PREFIX = "jdbc:postgresql:";
    // Any URL parameter whose name ends in "password" (password, sslpassword, ...), up to the next separator,
    // however it is spaced.
    private static final Pattern PASSWORD_PARAMETER =
            Pattern.compile("(?i)([?&;]\\s*[a-z_]*password\\s*=\\s*)[^&;\\s]*");
    // Whatever stands before an '@' in a URL's authority (user:password, however encoded).
    private static final Pattern AUTHORITY_USER = Pattern.compile("(?i)(jdbc:postgresql://)[^/?@\\s]*@");
    // user:password@ before the host, which the driver does not understand (it takes it for a host name) but
    // people write; masked wherever it appears, in URLs and in messages quoting their host part.
    private static final Pattern USER_INFO = Pattern.compile("(//|\\b)([^/:@\\s\"']+):[^@/\\s\"']*@");
    // Anything before an '@' in the authority part of a URL.
    private static final Pattern USER_INFO_IN_URL = Pattern.compile("^jdbc:postgresql://[^/?]*@");

    // A libpq connection string as SQL passes one to dblink or a foreign server: a password keyword beside another
    // connection keyword ("host=h user=u password=x"), or a URI with user:password@ ("postgresql://u:x@h/db").
    private static final Pattern CONNINFO_PASSWORD = Pattern.compile("(?i)(?<!\\w)(?:ssl)?password\\s*=");
    private static final Pattern CONNINFO_KEYWORD =
            Pattern.compile("(?i)(?<!\\w)(?:host|hostaddr|port|dbname|user|service|sslmode|application_name)\\s*=");
    private static final Pattern URI_USER_PASSWORD =
            Pattern.compile("(?i)\\b[a-z][a-z0-9+.-]*://[^/?@\\s:]*:[^/?@\\s]+@");

    private JdbcUrl() {}

    /**
     * Whether {@code text} (a string or comment of an operator's SQL) holds a password in a connection string or URL:
     * {@code 'host=h password=x'}, {@code 'postgresql://u:x@h/db'}, {@code 'jdbc:postgresql://h/db?password=x'}.
     */
    public static boolean holdsPassword(String text) {
        return (CONNINFO_PASSWORD.matcher(text).find()
                        && CONNINFO_KEYWORD.matcher(text).find())
                || URI_USER_PASSWORD.matcher(text).find()
                || (text.contains(PREFIX) && PASSWORD_PARAMETER.matcher(text).find());
    }

    /**
     * @param field the spec field or option the URL came from
     * @throws SpecException naming the field if the URL is not a PostgreSQL JDBC URL the driver accepts, or carries
     *                       a password
     */
    public static void checkWithoutPassword(String field, String url) {
        checkWithoutPassword(field, url, "specs are recorded with the job");
    }

    /** {@link #checkWithoutPassword(String, String)}, saying {@code why} a password may not stand in the URL. */
    public static void checkWithoutPassword(String field, String url, String why) {
        Properties parsed = check(field, url);
        if (hasPassword(url, parsed)) {
            throw new SpecException(
                    field,
                    "must not carry a password (" + why + "); give credentials with --user/--password or the"
                            + " environment");
        }
    }

    /**
     * The database {@code url} names itself: in its path, or as a {@code PGDBNAME} parameter; blank when it names none,
     * where the driver would connect to the database named as the user.
     */
    public static String namedDatabase(String url) {
        int query = url.indexOf('?');
        // Without its parameters: the driver takes a user= parameter for the database's name when the path has none.
        Properties path = Driver.parseURL(query < 0 ? url : url.substring(0, query), new Properties());
        String database = path == null ? "" : path.getProperty("PGDBNAME", "");
        if (database.isBlank() && query >= 0) {
            for (String parameter : url.substring(query + 1).split("&")) {
                if (parameter.startsWith("PGDBNAME=")) {
                    database = parameter.substring("PGDBNAME=".length());
                }
            }
        }
        return database;
    }

    /** @throws SpecException naming the field unless the driver accepts the URL */
    public static Properties check(String field, String url) {
        if (url == null || url.isBlank()) {
            throw new SpecException(field, "missing (write e.g. jdbc:postgresql://host:5432/db)");
        }
        if (!url.startsWith(PREFIX)) {
            throw new SpecException(
                    field,
                    "'" + mask(url) + "' is not a PostgreSQL JDBC URL (write e.g."
                            + " jdbc:postgresql://host:5432/db)");
        }
        if (USER_INFO_IN_URL.matcher(url).find()) {
            throw new SpecException(
                    field,
                    "'" + mask(url) + "': the driver does not take a user and password before"
                            + " the host; give the user and password as options or in the environment");
        }
        Properties parsed = Driver.parseURL(url, new Properties());
        if (parsed == null) {
            throw new SpecException(
                    field,
                    "'" + mask(url) + "' is not a JDBC URL the PostgreSQL driver accepts"
                            + " (write e.g. jdbc:postgresql://host:5432/db)");
        }
        return parsed;
    }

    private static boolean hasPassword(String url, Properties parsed) {
        for (String name : parsed.stringPropertyNames()) {
            if (name.toLowerCase(Locale.ROOT).endsWith("password")) {
                return true;
            }
        }
        return PASSWORD_PARAMETER.matcher(url).find();
    }

    /** The URL (or any text quoting one) with every password replaced by {@code ***}. */
    public static String mask(String text) {
        if (text == null) {
            return null;
        }
        String masked = PASSWORD_PARAMETER.matcher(text).replaceAll("$1***");
        masked = AUTHORITY_USER.matcher(masked).replaceAll("$1***@");
        return USER_INFO.matcher(masked).replaceAll("$1$2:***@");
    }
}
