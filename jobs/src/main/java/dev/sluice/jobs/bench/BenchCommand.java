package dev.sluice.jobs.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.spec.JdbcUrl;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.jobs.cli.ExitCode;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice bench}: the same two-column backfill done several ways on fresh copies of one table, side by side
 * in one run ({@link Contenders}), on a stage set once ({@link Harness}), in one table ({@link Report}); or, with
 * {@code --load}, what a throttled backfill costs live traffic ({@link LoadComparison}).
 */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = "Benchmark Sluice against the one-statement limit and common alternatives.")
public class BenchCommand implements Callable<Integer> {

    @Option(names = "--rows", defaultValue = "5000000", description = "rows in the table (default: ${DEFAULT-VALUE})")
    long rows;

    @Option(names = "--chunk", defaultValue = "1000", description = "batch and chunk size (default: ${DEFAULT-VALUE})")
    int chunk;

    @Option(
            names = "--key",
            defaultValue = "bigint",
            paramLabel = "KIND",
            description = "the table's key: bigint, uuid (random), or text (a composite (tenant text, id bigint), the"
                    + " tenant in an ICU collation where the server has one) (default: ${DEFAULT-VALUE})")
    String key;

    @Option(
            names = "--fixed-chunks",
            description = "Sluice's chunks hold --chunk rows each (as the PL/pgSQL loop's batches), instead of being"
                    + " sized toward a target time")
    boolean fixedChunks;

    @Option(
            names = "--offset-budget",
            defaultValue = "60",
            paramLabel = "SECONDS",
            description = "time the OFFSET loop gets before it is stopped (default: ${DEFAULT-VALUE})")
    int offsetBudget;

    @Option(
            names = "--xmx",
            defaultValue = "256m",
            description = "heap of the JVM contenders (default: ${DEFAULT-VALUE})")
    String xmx;

    @Option(
            names = "--only",
            split = ",",
            paramLabel = "CONTENDER",
            description =
                    "run only these contenders (the limit always runs): plpgsql, client, spring-batch, offset, sluice-sql,"
                            + " sluice-sql-p2, sluice-sql-undo, sluice-java, sluice-java-p2, sluice-validate")
    Set<String> only;

    @Option(names = "--load", description = "instead of the contenders: pgbench alone, then with a throttled backfill")
    boolean load;

    @Option(names = "--load-seconds", defaultValue = "30", description = "each pgbench run (default: ${DEFAULT-VALUE})")
    int loadSeconds;

    @Option(
            names = "--load-rate",
            defaultValue = "5000,10000,20000",
            split = ",",
            description = "the backfill's rows/s limits to compare (default: ${DEFAULT-VALUE})")
    List<Long> loadRates;

    @Option(names = "--load-clients", defaultValue = "4", description = "pgbench clients (default: ${DEFAULT-VALUE})")
    int loadClients;

    @Option(
            names = "--load-parallel",
            defaultValue = "1",
            description =
                    "partitions of the throttled backfill, 1 or 2: with 2, the rate limit is shared (default: ${DEFAULT-VALUE})")
    int loadParallel;

    @Option(
            names = "--scale",
            description = "instead of the contenders: the median time of a fixed-size chunk on a small"
                    + " and a large table, per key kind and mode (a chunk must cost the same on any table)")
    boolean scale;

    @Option(
            names = "--scale-rows",
            defaultValue = "100000,10000000",
            split = ",",
            description = "the small and the large table of --scale (default: ${DEFAULT-VALUE})")
    List<Long> scaleRows;

    @Option(
            names = "--scale-out",
            description = "instead of the contenders: a CPU-heavy Java transform on the runner's threads against"
                    + " 'sluice worker' processes (workers: remote), and a fleet of 4 databases against 4 runs one after"
                    + " the other")
    boolean scaleOut;

    @Option(
            names = "--scale-out-rows",
            defaultValue = "200000",
            description = "rows of --scale-out's transform (each fleet database: 2.5 times as many) (default:"
                    + " ${DEFAULT-VALUE})")
    long scaleOutRows;

    @Option(
            names = "--hmac-rounds",
            defaultValue = "200",
            description = "rounds of --scale-out's email-hmac per row: its CPU cost (default: ${DEFAULT-VALUE})")
    int hmacRounds;

    @Option(
            names = "--postgres-version",
            paramLabel = "V",
            description =
                    "the embedded server's PostgreSQL version: a major version, 14 to 18 (its newest release here,"
                            + " else the newest published), or a release, e.g. 14.20.0 (default: the build's); its"
                            + " binaries come from the local Maven repository, else Maven Central"
                            + " (SLUICE_MAVEN_REPOSITORY for a mirror), once")
    String postgresVersion;

    @Option(
            names = "--jdbc-url",
            paramLabel = "URL",
            description = "instead of an embedded server: a scratch database on your own server, holding no tables of"
                    + " its own (the benchmark creates and drops its tables there)")
    String jdbcUrl;

    @Option(
            names = "--user",
            paramLabel = "NAME",
            description = "with --jdbc-url: the database user (else SLUICE_USER)")
    String user;

    @Option(
            names = "--password",
            paramLabel = "SECRET",
            description = "with --jdbc-url: the password; prefer SLUICE_PASSWORD, which other users cannot read from"
                    + " the process list")
    String password;

    @Option(
            names = "--rounds",
            defaultValue = "3",
            description =
                    "rounds of the limit, the two loops and Sluice, alternating; medians are reported (default: ${DEFAULT-VALUE})")
    int rounds;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        checkOptions();
        BenchServer server =
                jdbcUrl != null ? BenchServer.scratch(jdbcUrl, user, password) : BenchServer.embedded(postgresVersion);
        try (server) {
            return run(server);
        } catch (Exception e) {
            // Interrupted (Ctrl-C, SIGTERM): the sessions went with the server or were ended, and the work failed
            // for that; what the interruption did is said by the clean-up, not by the work's error.
            server.awaitCleanUpIfInterrupted();
            throw e;
        }
    }

    private int run(BenchServer server) throws Exception {
        Connection c = server.connection();
        String url = server.url();
        EmbeddedPostgres pg = server.embedded();
        Harness harness = new Harness(c);
        int cores = Runtime.getRuntime().availableProcessors();
        if (scale) {
            System.out.printf(Locale.ROOT, "sluice bench: %s; %d cores%n", server.describe(), cores);
        } else if (scaleOut) {
            System.out.printf(Locale.ROOT, "sluice bench: %s; %d cores, JVMs -Xmx%s%n", server.describe(), cores, xmx);
        } else {
            System.out.printf(
                    Locale.ROOT,
                    "sluice bench: %s; %,d rows, chunk %,d; %d cores, JVM contenders -Xmx%s%n",
                    server.describe(),
                    rows,
                    chunk,
                    cores,
                    xmx);
        }
        if (!load && !scale && !scaleOut) {
            System.out.println("each contender on a fresh, vacuumed (all-visible) copy, checked against the limit's"
                    + " result; JVM contenders timed from their first statement (JVM start-up not included, their"
                    + " own set-up is), peak RSS of their JVM");
        }
        if (scaleOut) {
            new ScaleOut(pg, scaleOutRows, hmacRounds, xmx).run();
            return ExitCode.DONE;
        }
        if (scale) {
            System.out.println("scale: the same jobs in fixed chunks on a small and a large table");
            HikariConfig hc = new HikariConfig();
            hc.setJdbcUrl(url);
            hc.setUsername("postgres");
            hc.setMaximumPoolSize(8);
            try (HikariDataSource ds = new HikariDataSource(hc)) {
                List<ScaleCheck.Row> measured = new ScaleCheck(ds, c).run(scaleRows, rounds);
                ScaleCheck.print(measured, scaleRows.get(0), scaleRows.get(scaleRows.size() - 1));
            }
            return ExitCode.DONE;
        }
        String keyed = harness.createBase(rows, KeyKind.of(key));
        System.out.printf(
                Locale.ROOT,
                "key %s; Sluice's chunks %s%n",
                keyed,
                fixedChunks
                        ? String.format(Locale.ROOT, "fixed at %,d rows", chunk)
                        : String.format(Locale.ROOT, "from %,d rows, sized toward 250 ms", chunk));
        Contenders contenders = new Contenders(harness, rows, chunk, fixedChunks, offsetBudget, xmx, server);
        if (load) {
            return load(harness, contenders, pg.getPort(), url);
        }
        // The fast contenders run in alternating rounds, each next to a run of the limit, so that a slow minute
        // of a shared machine weighs on one round and not on one contender; the two slow ones run once.
        Report report = new Report();
        for (int round = 1; round <= rounds; round++) {
            System.out.printf(Locale.ROOT, "round %d of %d%n", round, rounds);
            report.add(contenders.sql("limit", Report.LIMIT, "UPDATE %s SET " + KeyKind.SET, false));
            if (runs("plpgsql")) {
                report.add(contenders.plpgsql());
            }
            if (runs("client")) {
                report.add(contenders.client());
            }
            if (runs("sluice-sql")) {
                report.add(contenders.jvm(url, "sluice-sql", Report.PLAIN));
            }
            if (runs("sluice-sql-p2")) {
                report.add(contenders.jvm(url, "sluice-sql-p2", "Sluice, SQL mode, parallel 2"));
            }
            if (runs("sluice-sql-undo")) {
                report.add(contenders.jvm(url, "sluice-sql-undo", Report.UNDO));
            }
            if (runs("sluice-java")) {
                report.add(contenders.jvm(url, "sluice-java", "Sluice, Java transformer mode"));
            }
            if (runs("sluice-java-p2")) {
                report.add(contenders.jvm(url, "sluice-java-p2", Report.JAVA_P2));
            }
            if (runs("sluice-validate")) {
                report.add(contenders.jvm(url, "sluice-validate", "Sluice validation of the result, 2 rules"));
            }
        }
        if (runs("spring-batch")) {
            report.add(contenders.jvm(url, "spring-batch", Report.SPRING_BATCH));
        }
        if (runs("offset") && KeyKind.of(key) == KeyKind.BIGINT) {
            report.add(contenders.offset());
        }
        // A contender stopped by an interruption is no result: the clean-up says what happened.
        server.awaitCleanUpIfInterrupted();
        report.print();
        return report.allCorrect() ? ExitCode.DONE : ExitCode.FAILED;
    }

    private static final Set<String> CONTENDERS = Set.of(
            "plpgsql",
            "client",
            "spring-batch",
            "offset",
            "sluice-sql",
            "sluice-sql-p2",
            "sluice-sql-undo",
            "sluice-java",
            "sluice-java-p2",
            "sluice-validate");

    /** Bad options are refused before a server is started (exit 2, naming the option). */
    private void checkOptions() {
        // First: an option of another way of running is refused as such, before its value is looked at.
        checkModes();
        if (rows < 1) {
            throw new SpecException("--rows", "must be at least 1, got " + rows);
        }
        if (rounds < 1) {
            throw new SpecException("--rounds", "must be at least 1, got " + rounds);
        }
        if (chunk < 1) {
            throw new SpecException("--chunk", "must be at least 1, got " + chunk);
        }
        if (KeyKind.of(key) == null) {
            throw new SpecException("--key", "must be bigint, uuid or text, got '" + key + "'");
        }
        if (KeyKind.of(key) != KeyKind.BIGINT && (load || scale || scaleOut)) {
            throw new SpecException(
                    "--key", "the contenders only: --load, --scale and --scale-out use tables of their own");
        }
        if (fixedChunks && (load || scale || scaleOut)) {
            throw new SpecException(
                    "--fixed-chunks",
                    "the contenders only: --load, --scale and --scale-out size their chunks themselves");
        }
        if (KeyKind.of(key) != KeyKind.BIGINT && only != null && only.contains("offset")) {
            throw new SpecException("--key", "the OFFSET loop runs over a bigint key only");
        }
        if (jdbcUrl != null && postgresVersion != null) {
            throw new SpecException("--jdbc-url", "give either --jdbc-url or --postgres-version");
        }
        if (jdbcUrl != null && (load || scale || scaleOut)) {
            throw new SpecException(
                    "--jdbc-url", "the contenders only: --load, --scale and --scale-out need the embedded server");
        }
        if (postgresVersion != null && PostgresRelease.problem(postgresVersion) != null) {
            throw new SpecException("--postgres-version", PostgresRelease.problem(postgresVersion));
        }
        if (jdbcUrl != null) {
            JdbcUrl.checkWithoutPassword("--jdbc-url", jdbcUrl, "the contenders' command lines would show it");
            String database = JdbcUrl.namedDatabase(jdbcUrl);
            if (database.isBlank()) {
                throw new SpecException(
                        "--jdbc-url",
                        "'" + JdbcUrl.mask(jdbcUrl) + "' names no database: give the scratch database the benchmark"
                                + " may fill, e.g. jdbc:postgresql://host:5432/sluice_bench");
            }
        }
        if (user != null && jdbcUrl == null) {
            throw new SpecException("--user", "goes with --jdbc-url: the embedded server has its own user");
        }
        if (password != null && jdbcUrl == null) {
            throw new SpecException("--password", "goes with --jdbc-url: the embedded server has its own user");
        }
        if (user != null && user.isBlank()) {
            throw new SpecException("--user", "is empty");
        }
        if (scaleOutRows < 1) {
            throw new SpecException("--scale-out-rows", "must be at least 1, got " + scaleOutRows);
        }
        if (hmacRounds < 1 || hmacRounds > 1_000_000) {
            throw new SpecException("--hmac-rounds", "must be from 1 to 1000000, got " + hmacRounds);
        }
        if (loadParallel != 1 && loadParallel != 2) {
            throw new SpecException("--load-parallel", "must be 1 or 2, got " + loadParallel);
        }
        if (only != null) {
            for (String c : only) {
                if (!CONTENDERS.contains(c)) {
                    throw new SpecException(
                            "--only",
                            "no contender '" + c + "' (known: " + String.join(", ", new TreeSet<>(CONTENDERS)) + ")");
                }
            }
        }
    }

    // The options that only one way of running reads: given to another, they would be ignored without a word.
    private static final List<String> LOAD_ONLY =
            List.of("--load-seconds", "--load-rate", "--load-clients", "--load-parallel");
    private static final List<String> CONTENDERS_ONLY = List.of("--only", "--offset-budget");
    // --rows and --chunk size the contenders' table and the load's; --scale and --scale-out have tables of their own.
    private static final List<String> NOT_SCALING = List.of("--rows", "--chunk");

    /**
     * One way of running at a time (the contenders, or {@code --load}, {@code --scale} or {@code --scale-out}), and
     * only options that way reads: refused, naming the option, rather than run as something the user did not ask for.
     */
    private void checkModes() {
        List<String> modes = new ArrayList<>();
        for (String mode : List.of("--load", "--scale", "--scale-out")) {
            if (given(mode)) {
                modes.add(mode);
            }
        }
        if (modes.size() > 1) {
            throw new SpecException(
                    modes.get(1), "runs instead of " + modes.get(0) + ": give one of --load, --scale and --scale-out");
        }
        String mode = modes.isEmpty() ? "the contenders" : modes.get(0);
        refuseWhen(!load, LOAD_ONLY, "--load", mode);
        refuseWhen(!scale, List.of("--scale-rows"), "--scale", mode);
        refuseWhen(!scaleOut, List.of("--scale-out-rows", "--hmac-rounds"), "--scale-out", mode);
        refuseWhen(
                load || scale || scaleOut, CONTENDERS_ONLY, "the contenders (no --load, --scale or --scale-out)", mode);
        refuseWhen(scale || scaleOut, NOT_SCALING, "the contenders and --load", mode);
        refuseWhen(scale, List.of("--xmx"), "the contenders, --load and --scale-out", mode);
        refuseWhen(scaleOut, List.of("--rounds"), "the contenders, --load and --scale", mode);
        if (scale) {
            long least = (long) (ScaleCheck.WARM_UP + ScaleCheck.MEASURED / 2) * ScaleCheck.CHUNK;
            if (scaleRows.size() < 2 || scaleRows.stream().distinct().count() != scaleRows.size()) {
                throw new SpecException(
                        "--scale-rows",
                        "needs two or more different sizes (a small and a large table), got " + scaleRows);
            }
            for (long size : scaleRows) {
                if (size < least) {
                    throw new SpecException(
                            "--scale-rows",
                            String.format(
                                    Locale.ROOT,
                                    "each size must be at least %,d rows (%d chunks of %,d rows to warm up and %d to"
                                            + " measure), got %,d",
                                    least,
                                    ScaleCheck.WARM_UP,
                                    ScaleCheck.CHUNK,
                                    ScaleCheck.MEASURED / 2,
                                    size));
                }
            }
        }
    }

    /** Refuses any of {@code options} given when running {@code elsewhere} than {@code goesWith}, which reads them. */
    private void refuseWhen(boolean elsewhere, List<String> options, String goesWith, String mode) {
        if (!elsewhere) {
            return;
        }
        for (String option : options) {
            if (given(option)) {
                throw new SpecException(option, "goes with " + goesWith + ", not " + mode);
            }
        }
    }

    private boolean given(String option) {
        return spec != null && spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    private boolean runs(String contender) {
        return only == null || only.contains(contender);
    }

    /**
     * pgbench alone, then with a backfill limited to each rate, alternating for {@link #rounds} rounds per rate; the
     * backfill resumes the same job each round (SIGTERM stops it gracefully between rounds).
     */
    private int load(Harness harness, Contenders contenders, int port, String url) throws Exception {
        String version = LoadComparison.version();
        if (version == null) {
            System.err.println(
                    "sluice bench: --load needs pgbench on the PATH (Debian: apt-get install postgresql-client)");
            return ExitCode.BAD_INPUT;
        }
        System.out.printf(
                Locale.ROOT,
                "load: %s, TPC-B scale 10, %d clients, %d s per run, %d rounds per rate; the"
                        + " backfill in %d partition(s)%n",
                version,
                loadClients,
                loadSeconds,
                rounds,
                loadParallel);
        LoadComparison.init(port, 10);
        List<LoadComparison.Round> results = new ArrayList<>();
        for (long rate : loadRates) {
            String t = harness.copy("load_" + rate);
            for (int round = 1; round <= rounds; round++) {
                LoadComparison.Pgbench alone = LoadComparison.pgbench(port, loadSeconds, loadClients);
                LoadComparison.Round r = loaded(harness.connection(), contenders, port, url, t, rate, alone);
                results.add(r);
                System.out.printf(
                        Locale.ROOT,
                        "  %,d rows/s, round %d: latency %.2f ms alone, %.2f ms with the backfill%n",
                        rate,
                        round,
                        alone.latencyMs(),
                        r.loaded().latencyMs());
            }
        }
        LoadComparison.print(results);
        long syncRate = loadRates.get(loadRates.size() / 2);
        System.out.printf(
                Locale.ROOT,
                "%nsync: pgbench while a backfill of pgbench_accounts at %,d rows/s runs with"
                        + " sync: none and with sync: trigger, %d rounds%n",
                syncRate,
                rounds);
        List<SyncLoad.Run[]> sync = new SyncLoad(harness.connection(), contenders, port, url)
                .rounds(rounds, syncRate, loadSeconds, loadClients);
        SyncLoad.print(sync, syncRate);
        boolean failed = results.stream()
                        .anyMatch(r -> r.alone().failed() > 0 || r.loaded().failed() > 0)
                || sync.stream()
                        .anyMatch(r ->
                                r[0].pgbench().failed() > 0 || r[1].pgbench().failed() > 0);
        return failed ? ExitCode.FAILED : ExitCode.DONE;
    }

    private LoadComparison.Round loaded(
            Connection c,
            Contenders contenders,
            int port,
            String url,
            String t,
            long rate,
            LoadComparison.Pgbench alone)
            throws Exception {
        String done = "SELECT count(*) FROM " + t + " WHERE email_lower IS NOT NULL";
        long start = Long.parseLong(Harness.one(c, done));
        Path log = Files.createTempFile("sluice-bench-load", ".log");
        // The same job every round at this rate: each round resumes where the last one was stopped.
        Process backfill = contenders.contender(
                loadParallel == 2 ? "sluice-sql-p2" : "sluice-sql", t, "bench-" + t.replace('_', '-'), url, rate, log);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (Long.parseLong(Harness.one(c, done)) == start) {
                if (!backfill.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("the backfill did not start: " + Files.readString(log));
                }
                Thread.sleep(200);
            }
            long before = Long.parseLong(Harness.one(c, done));
            long started = System.nanoTime();
            LoadComparison.Pgbench loaded = LoadComparison.pgbench(port, loadSeconds, loadClients);
            long after = Long.parseLong(Harness.one(c, done));
            if (!backfill.isAlive()) {
                throw new IllegalStateException("the backfill ended during pgbench (table too small for the rate?)");
            }
            return new LoadComparison.Round(
                    rate, alone, loaded, (after - before) / ((System.nanoTime() - started) / 1e9));
        } finally {
            backfill.destroy();
            backfill.waitFor(60, TimeUnit.SECONDS);
            Files.deleteIfExists(log);
        }
    }
}
