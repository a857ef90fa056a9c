package dev.sluice.jobs.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Actor;
import dev.sluice.engine.Backfill;
import dev.sluice.engine.BackfillBuilder;
import dev.sluice.engine.ServerErrorsKeepConnections;
import dev.sluice.engine.spec.FleetSpec;
import dev.sluice.engine.spec.JdbcUrl;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.Secrets;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spi.Connector;
import dev.sluice.jobs.transformers.TransformerCatalog;

import org.postgresql.Driver;

import picocli.CommandLine.Option;

/**
 * Where the database is: {@code --jdbc-url} (with {@code --user}/{@code --password}), else the environment
 * ({@code SLUICE_JDBC_URL}, {@code SLUICE_USER}, {@code SLUICE_PASSWORD}), else {@code application.yml} in the
 * config directory ({@code sluice.datasource.url/username/password}).
 */
public final class DatabaseOptions {

    @Option(
            names = "--jdbc-url",
            paramLabel = "URL",
            description = "JDBC URL of the target database, e.g. jdbc:postgresql://db:5432/app (else SLUICE_JDBC_URL,"
                    + " else sluice.datasource.url in DIR/application.yml)")
    String jdbcUrl;

    @Option(
            names = "--user",
            paramLabel = "NAME",
            description = "database user (else SLUICE_USER, else sluice.datasource.username)")
    String user;

    @Option(
            names = "--password",
            paramLabel = "SECRET",
            description = "database password; prefer SLUICE_PASSWORD, which other users cannot read from the"
                    + " process list (else sluice.datasource.password)")
    String password;

    private static final String DEFAULT_CONFIG = "config";

    @Option(
            names = "--config",
            paramLabel = "DIR",
            defaultValue = DEFAULT_CONFIG,
            description = "directory with application.yml and jobs/NAME.yml (default: ${DEFAULT-VALUE})")
    Path config;

    @Option(
            names = "--schema",
            paramLabel = "NAME",
            defaultValue = "sluice",
            description = "schema of Sluice's job repository in the target database (default: ${DEFAULT-VALUE})")
    String schema;

    /**
     * Checks the options that need no database: the schema name, the URL. Every command calls this before it
     * reads a spec or connects, so that bad input is refused first and alone.
     */
    public void check() {
        if (config != null && !config.equals(Path.of(DEFAULT_CONFIG)) && !Files.isDirectory(config)) {
            throw new SpecException("--config", "no directory " + config);
        }
        if (user != null && user.isBlank()) {
            throw new SpecException("--user", "is empty");
        }
        applicationYml();
        try {
            BackfillBuilder.checkSchema(schema);
        } catch (IllegalArgumentException e) {
            throw new SpecException("--schema", e.getMessage());
        }
        String url = url();
        if (url != null) {
            JdbcUrl.check(
                    jdbcUrl != null
                            ? "--jdbc-url"
                            : System.getenv("SLUICE_JDBC_URL") != null ? "SLUICE_JDBC_URL" : "sluice.datasource.url",
                    url);
        }
    }

    /** The target database's URL from wherever it was given, or null. */
    String url() {
        return first(jdbcUrl, System.getenv("SLUICE_JDBC_URL"), applicationYml().url());
    }

    /** Opens a small pool; the caller closes it. */
    public HikariDataSource open(String applicationName) {
        check();
        Map<String, String> env = System.getenv();
        ApplicationYml yml = applicationYml();
        String url = url();
        if (url == null) {
            throw new SpecException(
                    "--jdbc-url",
                    "no database given (use --jdbc-url, SLUICE_JDBC_URL, or " + config.resolve("application.yml")
                            + ")");
        }
        Secrets.register(env.get("SLUICE_SOURCE_PASSWORD"));
        return open(
                url,
                first(user, env.get("SLUICE_USER"), yml.username()),
                first(password, env.get("SLUICE_PASSWORD"), yml.password()),
                applicationName,
                false,
                DEFAULT_POOL);
    }

    /** {@link #open(String)} with room for {@code connections} connections (a worker's partitions need more). */
    public HikariDataSource open(String applicationName, int connections) {
        HikariDataSource ds = open(applicationName);
        ds.setMaximumPoolSize(Math.max(DEFAULT_POOL, connections));
        return ds;
    }

    // The runner lock, per partition (at most parallel's limit) a chunk transaction and a read ahead (Java mode),
    // health queries, the throttle record, and a spare; connections are opened as they are needed.
    private static final int DEFAULT_POOL = 4 + 2 * JobSpec.MAX_PARALLEL;

    /**
     * Opens a pool on a fleet's target (or coordinator) named {@code name}: its URL, its user (else this command
     * line's); the password {@code --password}, else {@code SLUICE_PASSWORD_<NAME>} (upper case, other characters
     * as {@code _}), else {@code SLUICE_PASSWORD}, else application.yml's.
     */
    public HikariDataSource openTarget(String name, String url, String targetUser, String applicationName) {
        check();
        Map<String, String> env = System.getenv();
        ApplicationYml yml = applicationYml();
        String variable = FleetSpec.passwordVariable(name);
        Secrets.register(env.get("SLUICE_SOURCE_PASSWORD"));
        // A target that does not answer fails its own part of the command, not the whole fleet's.
        return open(
                url,
                first(targetUser, user, env.get("SLUICE_USER"), yml.username()),
                first(password, env.get(variable), env.get("SLUICE_PASSWORD"), yml.password()),
                applicationName,
                true,
                DEFAULT_POOL);
    }

    private HikariDataSource open(String url, String u, String p, String applicationName, boolean lazy, int pool) {
        Properties parsed = Driver.parseURL(url, new Properties());
        if (parsed != null) {
            parsed.stringPropertyNames().stream()
                    .filter(k -> k.toLowerCase(Locale.ROOT).endsWith("password"))
                    .forEach(k -> Secrets.register(parsed.getProperty(k)));
        }
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(url);
        Secrets.register(p);
        if (u != null) {
            hc.setUsername(u);
        }
        if (p != null) {
            hc.setPassword(p);
        }
        hc.setMaximumPoolSize(pool);
        if (lazy) {
            hc.setInitializationFailTimeout(-1);
        }
        hc.setMinimumIdle(1);
        // Three seconds for a connection from the pool: past that the database is unreachable (a reconnect then
        // takes over), not slow. Short, because when the database goes away Spring Batch still writes a step's and a
        // job's end, one connection each: a pool that waits long for each makes a lost database noticed late (ten
        // seconds each came to a minute). Opening a connection: three seconds to connect, five to log in.
        hc.setConnectionTimeout(3_000);
        // And a pooled connection that does not answer its aliveness check within two seconds is dead.
        hc.setValidationTimeout(2_000);
        hc.addDataSourceProperty("connectTimeout", "3");
        hc.addDataSourceProperty("loginTimeout", "5");
        hc.setPoolName("sluice");
        hc.setExceptionOverride(new ServerErrorsKeepConnections());
        hc.addDataSourceProperty("ApplicationName", applicationName);
        try {
            return new HikariDataSource(hc);
        } catch (RuntimeException e) {
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            String why = root.getMessage() == null
                    ? root.toString()
                    : root.getMessage().lines().findFirst().orElse("");
            throw new DatabaseUnavailableException("cannot connect: " + why + "; database " + JdbcUrl.mask(url), e);
        }
    }

    /** Connects to the standbys of {@code health.replicas} with the same credentials as the target database. */
    public Connector standbys() {
        return connector(null, null, "sluice health");
    }

    /**
     * Connects to the source database of a cross-database copy: {@code SLUICE_SOURCE_USER} and
     * {@code SLUICE_SOURCE_PASSWORD}, else the target's credentials.
     */
    public Connector sources() {
        return connector(System.getenv("SLUICE_SOURCE_USER"), System.getenv("SLUICE_SOURCE_PASSWORD"), "sluice source");
    }

    /** The engine, set up with this command line's transformers and source credentials. */
    public Backfill backfill(DataSource ds) {
        return Backfill.builder(ds)
                .schema(schema)
                .transformers(TransformerCatalog.INSTANCE)
                .sources(sources())
                .actor(Actor.process("cli"))
                .build();
    }

    private Connector connector(String sourceUser, String sourcePassword, String application) {
        Map<String, String> env = System.getenv();
        ApplicationYml yml = applicationYml();
        String u = first(sourceUser, user, env.get("SLUICE_USER"), yml.username());
        String p = first(
                sourceUser != null ? sourcePassword : null,
                sourcePassword,
                password,
                env.get("SLUICE_PASSWORD"),
                yml.password());
        return url -> {
            Properties props = new Properties();
            if (u != null) {
                props.setProperty("user", u);
            }
            if (p != null) {
                props.setProperty("password", p);
            }
            props.setProperty("ApplicationName", application);
            // A standby or source that does not answer within seconds is down for a health signal's purpose (it
            // then fails closed) and for a preflight (which then says so), rather than hanging the runner.
            props.setProperty("connectTimeout", "5");
            props.setProperty("socketTimeout", "10");
            return DriverManager.getConnection(url, props);
        };
    }

    /** The bearer token for serve's control POSTs: SLUICE_TOKEN, else {@code sluice.serve.token} in application.yml. */
    public String serveToken() {
        String env = System.getenv("SLUICE_TOKEN");
        return env != null && !env.isBlank() ? env : applicationYml().token();
    }

    public String schema() {
        return schema;
    }

    public Path config() {
        return config;
    }

    /** The URL as it may appear in output: password hidden. */
    public String describe() {
        String url = url();
        return url == null ? "(none)" : JdbcUrl.mask(url);
    }

    private ApplicationYml applicationYml() {
        return ApplicationYml.read(config);
    }

    /** The first value given (not null, not blank), or null: how every command picks a credential from its sources. */
    public static String first(String... values) {
        for (String v : values) {
            if (v != null && !v.isBlank()) {
                return v;
            }
        }
        return null;
    }
}
