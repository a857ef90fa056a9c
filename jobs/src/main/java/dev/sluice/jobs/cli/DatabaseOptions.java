package dev.sluice.jobs.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.Map;
import java.util.Properties;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.health.StandbySignal;
import dev.sluice.jobs.transformers.TransformerCatalog;
import dev.sluice.engine.spec.SpecException;

import picocli.CommandLine.Option;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * Where the database is: {@code --jdbc-url} (with {@code --user}/{@code --password}), else the environment
 * ({@code SLUICE_JDBC_URL}, {@code SLUICE_USER}, {@code SLUICE_PASSWORD}), else {@code application.yml} in the
 * config directory ({@code sluice.datasource.url/username/password}).
 */
public final class DatabaseOptions {

    @Option(names = "--jdbc-url", paramLabel = "URL", description = "JDBC URL of the target database")
    String jdbcUrl;

    @Option(names = "--user", description = "database user")
    String user;

    @Option(names = "--password", description = "database password (prefer SLUICE_PASSWORD)")
    String password;

    @Option(names = "--config", paramLabel = "DIR", defaultValue = "config",
            description = "directory with application.yml and jobs/*.yml (default: ${DEFAULT-VALUE})")
    Path config;

    @Option(names = "--schema", defaultValue = "sluice",
            description = "schema of Sluice's job repository in the target database (default: ${DEFAULT-VALUE})")
    String schema;

    /** Opens a small pool; the caller closes it. */
    public HikariDataSource open(String applicationName) {
        Map<String, String> env = System.getenv();
        JsonNode yml = applicationYml();
        String url = first(jdbcUrl, env.get("SLUICE_JDBC_URL"), text(yml, "url"));
        if (url == null) {
            throw new SpecException("--jdbc-url", "no database given (use --jdbc-url, SLUICE_JDBC_URL, or "
                    + config.resolve("application.yml") + ")");
        }
        if (!url.startsWith("jdbc:postgresql:")) {
            throw new SpecException("--jdbc-url", "'" + Masking.mask(url) + "' is not a PostgreSQL JDBC URL (jdbc:postgresql://host/db)");
        }
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(url);
        String u = first(user, env.get("SLUICE_USER"), text(yml, "username"));
        String p = first(password, env.get("SLUICE_PASSWORD"), text(yml, "password"));
        if (u != null) {
            hc.setUsername(u);
        }
        if (p != null) {
            hc.setPassword(p);
        }
        // The runner lock, the chunk transaction, health queries, the throttle record, and a spare.
        hc.setMaximumPoolSize(5);
        hc.setMinimumIdle(1);
        hc.setConnectionTimeout(10_000);
        hc.setPoolName("sluice");
        hc.addDataSourceProperty("ApplicationName", applicationName);
        try {
            return new HikariDataSource(hc);
        } catch (RuntimeException e) {
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            String why = root.getMessage() == null ? root.toString() : root.getMessage().lines().findFirst().orElse("");
            throw new DatabaseUnavailableException("cannot connect to " + Masking.mask(url) + ": " + why, e);
        }
    }

    /** Connects to the standbys of {@code health.replicas} with the same credentials as the target database. */
    public StandbySignal.Connector standbys() {
        return connector(null, null, "sluice health");
    }

    /**
     * Connects to the source database of a cross-database copy: {@code SLUICE_SOURCE_USER} and
     * {@code SLUICE_SOURCE_PASSWORD}, else the target's credentials.
     */
    public StandbySignal.Connector sources() {
        return connector(System.getenv("SLUICE_SOURCE_USER"), System.getenv("SLUICE_SOURCE_PASSWORD"), "sluice source");
    }

    /** The engine, set up with this command line's transformers and source credentials. */
    public Backfill backfill(javax.sql.DataSource ds) {
        return new Backfill(ds, schema, TransformerCatalog.INSTANCE, sources());
    }

    private StandbySignal.Connector connector(String sourceUser, String sourcePassword, String application) {
        Map<String, String> env = System.getenv();
        JsonNode yml = applicationYml();
        String u = first(sourceUser, user, env.get("SLUICE_USER"), text(yml, "username"));
        String p = first(sourceUser != null ? sourcePassword : null, sourcePassword, password, env.get("SLUICE_PASSWORD"),
                text(yml, "password"));
        return url -> {
            Properties props = new Properties();
            if (u != null) {
                props.setProperty("user", u);
            }
            if (p != null) {
                props.setProperty("password", p);
            }
            props.setProperty("ApplicationName", application);
            props.setProperty("connectTimeout", "5");
            props.setProperty("socketTimeout", "10");
            return DriverManager.getConnection(url, props);
        };
    }

    /** The bearer token for serve's control POSTs: SLUICE_TOKEN, else {@code sluice.serve.token} in application.yml. */
    public String serveToken() {
        String env = System.getenv("SLUICE_TOKEN");
        if (env != null && !env.isBlank()) {
            return env;
        }
        Path file = config.resolve("application.yml");
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            JsonNode token = new YAMLMapper().readTree(Files.readString(file)).path("sluice").path("serve").path("token");
            return token.isString() && !token.asString().isBlank() ? token.asString() : null;
        } catch (IOException | RuntimeException e) {
            throw new SpecException(file.toString(), "cannot read: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    public String schema() {
        return schema;
    }

    public Path config() {
        return config;
    }

    /** The URL as it may appear in output: password hidden. */
    public String describe() {
        String url = first(jdbcUrl, System.getenv("SLUICE_JDBC_URL"), text(applicationYml(), "url"));
        return url == null ? "(none)" : Masking.mask(url);
    }

    private JsonNode applicationYml() {
        Path file = config.resolve("application.yml");
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return new YAMLMapper().readTree(Files.readString(file)).path("sluice").path("datasource");
        } catch (IOException | RuntimeException e) {
            throw new SpecException(file.toString(), "cannot read: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    private static String text(JsonNode node, String field) {
        if (node == null || !node.hasNonNull(field)) {
            return null;
        }
        String value = node.get(field).asString();
        return value.isBlank() ? null : value;
    }

    private static String first(String... values) {
        for (String v : values) {
            if (v != null && !v.isBlank()) {
                return v;
            }
        }
        return null;
    }
}
