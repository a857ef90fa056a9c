package dev.sluice.jobs.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import dev.sluice.jobs.cli.ExitCode;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sluice bench}: the same two-column backfill done six ways on fresh copies of one table, side by side in
 * one run: one UPDATE (the limit), a PL/pgSQL keyset loop with COMMIT per batch, Spring Batch out of the box,
 * an OFFSET loop, and Sluice in SQL and Java mode. Each result is compared with the limit's before it is
 * reported. JVM contenders run in JVMs of their own, for their own wall time and peak RSS.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmark Sluice against the one-statement limit and common alternatives.")
public class BenchCommand implements Callable<Integer> {

    // Server settings stated in the output: enough memory that the table's working set is cached, fsync off so
    // the disk of a shared machine does not dominate; the same for every contender. WAL segments are kept for reuse
    // and not zero-filled when new: otherwise the first round pays for creating gigabytes of WAL files that later
    // rounds recycle (measured: the first round's PL/pgSQL loop 30% slower than the others'). max_wal_size is far
    // above one contender's WAL (about 1.5 GB), so that no checkpoint starts in the middle of a run: checkpoints
    // happen between contenders, where the bench asks for them.
    private static final String[][] SETTINGS = {
            {"shared_buffers", "512MB"}, {"max_wal_size", "16GB"}, {"min_wal_size", "4GB"}, {"wal_init_zero", "off"},
            {"checkpoint_timeout", "30min"},
            {"synchronous_commit", "off"}, {"fsync", "off"}, {"full_page_writes", "off"}, {"autovacuum", "off"}};

    @Option(names = "--rows", defaultValue = "5000000", description = "rows in the table (default: ${DEFAULT-VALUE})")
    long rows;

    @Option(names = "--chunk", defaultValue = "1000", description = "batch and chunk size (default: ${DEFAULT-VALUE})")
    int chunk;

    @Option(names = "--offset-budget", defaultValue = "60", paramLabel = "SECONDS",
            description = "time the OFFSET loop gets before it is stopped (default: ${DEFAULT-VALUE})")
    int offsetBudget;

    @Option(names = "--xmx", defaultValue = "256m", description = "heap of the JVM contenders (default: ${DEFAULT-VALUE})")
    String xmx;

    @Option(names = "--only", split = ",", paramLabel = "CONTENDER",
            description = "run only these contenders (the limit always runs): plpgsql, spring-batch, offset, sluice-sql,"
                    + " sluice-java, sluice-validate")
    Set<String> only;

    @Option(names = "--load", description = "instead of the contenders: pgbench alone, then with a throttled backfill")
    boolean load;

    @Option(names = "--load-seconds", defaultValue = "30", description = "each pgbench run (default: ${DEFAULT-VALUE})")
    int loadSeconds;

    @Option(names = "--load-rate", defaultValue = "5000,10000,20000", split = ",",
            description = "the backfill's rows/s limits to compare (default: ${DEFAULT-VALUE})")
    List<Long> loadRates;

    @Option(names = "--load-clients", defaultValue = "4", description = "pgbench clients (default: ${DEFAULT-VALUE})")
    int loadClients;

    @Option(names = "--rounds", defaultValue = "3",
            description = "rounds of the limit, the PL/pgSQL loop and Sluice, alternating; medians are reported (default: ${DEFAULT-VALUE})")
    int rounds;

    private static final String LIMIT = "one UPDATE of the whole table";

    private static final String PLPGSQL = """
            DO $$ DECLARE lo bigint := 0; hi bigint; BEGIN
              LOOP
                SELECT max(id) INTO hi FROM (SELECT id FROM %1$s WHERE id > lo ORDER BY id LIMIT %2$d) b;
                EXIT WHEN hi IS NULL;
                UPDATE %1$s SET email_lower = lower(email), amount_dollars = amount_cents / 100.0
                  WHERE id > lo AND id <= hi;
                COMMIT;
                lo := hi;
              END LOOP;
            END $$""";

    private int jvmRuns;

    private record Result(String name, double seconds, long rowsDone, Long peakRssKb, String correct) {

        double rate() {
            return seconds > 0 ? rowsDone / seconds : 0;
        }
    }

    @Override
    public Integer call() throws Exception {
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder();
        for (String[] s : SETTINGS) {
            builder.setServerConfig(s[0], s[1]);
        }
        try (EmbeddedPostgres pg = builder.start(); Connection c = pg.getPostgresDatabase().getConnection()) {
            String url = pg.getJdbcUrl("postgres", "postgres");
            // The bench's own session commits synchronously: with synchronous_commit=off a VACUUM right after the
            // copy's INSERT cannot set hint bits (the commit is not flushed yet) and leaves the visibility map
            // empty, so every contender would start on a table no vacuumed production table looks like.
            exec(c, "SET synchronous_commit = on");
            System.out.printf(Locale.ROOT, "sluice bench: PostgreSQL %s (embedded), %s; %,d rows, chunk %,d; "
                    + "%d cores, JVM contenders -Xmx%s%n", one(c, "SHOW server_version"), settings(), rows, chunk,
                    Runtime.getRuntime().availableProcessors(), xmx);
            if (!load) {
                System.out.println("each contender on a fresh, vacuumed (all-visible) copy, checked against the limit's"
                        + " result; JVM contenders timed from their first statement (JVM start-up not included, their"
                        + " own set-up is), peak RSS of their JVM");
            }
            exec(c, "CREATE TABLE bench_base (id bigint PRIMARY KEY, email text NOT NULL, amount_cents bigint NOT NULL,"
                    + " email_lower text, amount_dollars numeric(12, 2))",
                    "INSERT INTO bench_base (id, email, amount_cents) SELECT g, 'Customer' || g || '@Example.COM',"
                            + " (g::bigint * 7919) % 10000000 FROM generate_series(1, " + rows + ") g",
                    "VACUUM ANALYZE bench_base");
            if (load) {
                return load(c, pg.getPort(), url);
            }
            // The fast contenders run in alternating rounds, each next to a run of the limit, so that a slow minute
            // of a shared machine weighs on one round and not on one contender; the two slow ones run once.
            Map<String, List<Result>> results = new LinkedHashMap<>();
            for (int round = 1; round <= rounds; round++) {
                System.out.printf(Locale.ROOT, "round %d of %d%n", round, rounds);
                add(results, sql(c, "limit", LIMIT, "UPDATE %s SET email_lower = lower(email),"
                        + " amount_dollars = amount_cents / 100.0"));
                if (runs("plpgsql")) {
                    add(results, sql(c, "plpgsql", "PL/pgSQL keyset loop, COMMIT per batch", PLPGSQL));
                }
                if (runs("sluice-sql")) {
                    add(results, jvm(c, url, "sluice-sql", "Sluice, SQL mode, checkpoint per chunk"));
                }
                if (runs("sluice-java")) {
                    add(results, jvm(c, url, "sluice-java", "Sluice, Java transformer mode"));
                }
                if (runs("sluice-validate")) {
                    add(results, jvm(c, url, "sluice-validate", "Sluice validation of the result, 2 rules"));
                }
            }
            if (runs("spring-batch")) {
                add(results, jvm(c, url, "spring-batch", "Spring Batch: JdbcPagingItemReader + JdbcBatchItemWriter"));
            }
            if (runs("offset")) {
                add(results, offset(c));
            }
            print(results);
            // The OFFSET loop is stopped at its budget on purpose; every contender that finished must be correct.
            return results.values().stream().flatMap(List::stream)
                    .allMatch(r -> r.correct().equals("yes") || r.correct().startsWith("stopped"))
                    ? ExitCode.DONE : ExitCode.FAILED;
        }
    }

    private static void add(Map<String, List<Result>> results, Result r) {
        results.computeIfAbsent(r.name(), k -> new ArrayList<>()).add(r);
        System.out.printf(Locale.ROOT, "  %-57s %7.1f s  %s%n", r.name(), r.seconds(), r.correct());
    }

    private boolean runs(String contender) {
        return only == null || only.contains(contender);
    }

    /**
     * pgbench alone, then with a backfill limited to each rate, alternating for {@link #rounds} rounds per rate; the
     * backfill resumes the same job each round (SIGTERM stops it gracefully between rounds).
     */
    private int load(Connection c, int port, String url) throws Exception {
        String version = LoadComparison.version();
        if (version == null) {
            System.err.println("sluice bench: --load needs pgbench on the PATH (Debian: apt-get install postgresql-client)");
            return ExitCode.BAD_INPUT;
        }
        System.out.printf(Locale.ROOT, "load: %s, TPC-B scale 10, %d clients, %d s per run, %d rounds per rate%n",
                version, loadClients, loadSeconds, rounds);
        LoadComparison.init(port, 10);
        List<LoadComparison.Round> results = new ArrayList<>();
        for (long rate : loadRates) {
            String t = copy(c, "load_" + rate);
            for (int round = 1; round <= rounds; round++) {
                LoadComparison.Pgbench alone = LoadComparison.pgbench(port, loadSeconds, loadClients);
                LoadComparison.Round r = loaded(c, port, url, t, rate, alone);
                results.add(r);
                System.out.printf(Locale.ROOT, "  %,d rows/s, round %d: latency %.2f ms alone, %.2f ms with the backfill%n",
                        rate, round, alone.latencyMs(), r.loaded().latencyMs());
            }
        }
        LoadComparison.print(results);
        return results.stream().allMatch(r -> r.alone().failed() == 0 && r.loaded().failed() == 0)
                ? ExitCode.DONE : ExitCode.FAILED;
    }

    private LoadComparison.Round loaded(Connection c, int port, String url, String t, long rate,
                                        LoadComparison.Pgbench alone) throws Exception {
        String done = "SELECT count(*) FROM " + t + " WHERE email_lower IS NOT NULL";
        long start = Long.parseLong(one(c, done));
        Path log = Files.createTempFile("sluice-bench-load", ".log");
        // The same job every round at this rate: each round resumes where the last one was stopped.
        Process backfill = contender("sluice-sql", t, "bench-" + t.replace('_', '-'), url, rate, log);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (Long.parseLong(one(c, done)) == start) {
                if (!backfill.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("the backfill did not start: " + Files.readString(log));
                }
                Thread.sleep(200);
            }
            long before = Long.parseLong(one(c, done));
            long started = System.nanoTime();
            LoadComparison.Pgbench loaded = LoadComparison.pgbench(port, loadSeconds, loadClients);
            long after = Long.parseLong(one(c, done));
            if (!backfill.isAlive()) {
                throw new IllegalStateException("the backfill ended during pgbench (table too small for the rate?)");
            }
            return new LoadComparison.Round(rate, alone, loaded, (after - before) / ((System.nanoTime() - started) / 1e9));
        } finally {
            backfill.destroy();
            backfill.waitFor(60, TimeUnit.SECONDS);
            Files.deleteIfExists(log);
        }
    }

    private Result sql(Connection c, String table, String name, String statement) throws SQLException {
        String t = copy(c, table);
        long started = System.nanoTime();
        exec(c, statement.formatted(t, chunk));
        double seconds = (System.nanoTime() - started) / 1e9;
        return new Result(name, seconds, rows, null, check(c, t));
    }

    private Result offset(Connection c) throws SQLException {
        String t = copy(c, "offset");
        long started = System.nanoTime();
        long deadline = started + TimeUnit.SECONDS.toNanos(offsetBudget);
        long done = 0;
        try (PreparedStatement find = c.prepareStatement("SELECT min(id), max(id), count(*) FROM (SELECT id FROM " + t
                + " ORDER BY id OFFSET ? LIMIT ?) b");
             PreparedStatement update = c.prepareStatement("UPDATE " + t + " SET email_lower = lower(email),"
                     + " amount_dollars = amount_cents / 100.0 WHERE id BETWEEN ? AND ?")) {
            while (System.nanoTime() < deadline) {
                find.setLong(1, done);
                find.setInt(2, chunk);
                long lo;
                long hi;
                long n;
                try (ResultSet rs = find.executeQuery()) {
                    rs.next();
                    n = rs.getLong(3);
                    lo = rs.getLong(1);
                    hi = rs.getLong(2);
                }
                if (n == 0) {
                    break;
                }
                update.setLong(1, lo);
                update.setLong(2, hi);
                update.executeUpdate();
                done += n;
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        boolean finished = done >= rows;
        return new Result("OFFSET loop (the common mistake)", seconds, done, null,
                finished ? check(c, t) : "stopped after " + offsetBudget + " s");
    }

    private Result jvm(Connection c, String url, String contender, String name) throws Exception {
        // Validation checks a backfilled table: a copy of the limit's result of the same round.
        String t = copy(c, contender.replace('-', '_'), contender.equals("sluice-validate") ? "bench_limit" : "bench_base");
        Path log = Files.createTempFile("sluice-bench-" + contender, ".log");
        // A job name of its own per run: the job of the same table in an earlier round is complete.
        Process p = contender(contender, t, "bench-" + t.replace('_', '-') + "-" + (++jvmRuns), url, 0, log);
        long peak = 0;
        while (!p.waitFor(50, TimeUnit.MILLISECONDS)) {
            peak = Math.max(peak, peakRssKb(p.pid()));
        }
        String out = Files.readString(log);
        Files.deleteIfExists(log);
        if (p.exitValue() != 0 || !out.contains("elapsed=")) {
            // The exception's own line says more than the last line of its stack trace.
            String why = out.lines().filter(l -> l.contains("Exception: ") || l.startsWith("sluice")).findFirst()
                    .or(() -> out.lines().filter(l -> !l.isBlank()).reduce((a, b) -> b)).orElse("exit " + p.exitValue());
            return new Result(name, 0, 0, peak == 0 ? null : peak, "failed: " + why.strip());
        }
        double seconds = Double.parseDouble(out.substring(out.lastIndexOf("elapsed=") + 8).trim().split("\\s")[0]);
        return new Result(name, seconds, rows, peak == 0 ? null : peak, check(c, t));
    }

    /** Starts a contender in a JVM of its own. */
    private Process contender(String contender, String t, String job, String url, long rate, Path log) throws IOException {
        // Started as 'java -jar sluice.jar', the class path is the jar; from an IDE or a test, the classes.
        String classPath = System.getProperty("java.class.path");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + xmx));
        if (classPath.endsWith(".jar") && !classPath.contains(java.io.File.pathSeparator)) {
            command.addAll(List.of("-jar", classPath));
        } else {
            command.addAll(List.of("-cp", classPath, "dev.sluice.jobs.cli.SluiceCommand"));
        }
        command.addAll(List.of("bench-contender", contender, t, "--job", job, "--jdbc-url", url, "--chunk", String.valueOf(chunk),
                "--rows-per-second", String.valueOf(rate)));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static long peakRssKb(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("\\D", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            // the process ended between two looks, or this is not Linux
        }
        return 0;
    }

    /** A fresh copy of the base table, vacuumed and analyzed, after a checkpoint: every contender starts alike. */
    private String copy(Connection c, String name) throws SQLException {
        return copy(c, name, "bench_base");
    }

    private String copy(Connection c, String name, String from) throws SQLException {
        String t = "bench_" + name;
        exec(c, "DROP TABLE IF EXISTS " + t, "CREATE TABLE " + t + " (LIKE bench_base INCLUDING ALL)",
                "INSERT INTO " + t + " SELECT * FROM " + from, "VACUUM ANALYZE " + t, "CHECKPOINT");
        flushOperatingSystemCache();
        String visible = one(c, "SELECT relallvisible >= relpages FROM pg_class WHERE oid = '" + t + "'::regclass");
        if (!visible.equals("t")) {
            throw new IllegalStateException("VACUUM left " + t + " not all-visible: contenders would not start alike");
        }
        return t;
    }

    /**
     * With fsync off, the gigabytes an earlier contender wrote sit dirty in the kernel's page cache and are written
     * back whenever the kernel chooses, in the middle of the next contender's run; {@code sync} writes them now.
     */
    private static void flushOperatingSystemCache() {
        try {
            new ProcessBuilder("sync").inheritIO().start().waitFor(5, TimeUnit.MINUTES);
        } catch (IOException e) {
            // no sync command (not a Unix): nothing to flush by hand
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Equal to the limit's result, row for row. */
    private String check(Connection c, String t) throws SQLException {
        if (t.equals("bench_limit")) {
            return "yes";
        }
        long wrong = Long.parseLong(one(c, "SELECT count(*) FROM bench_limit l FULL JOIN " + t + " x USING (id)"
                + " WHERE l.email_lower IS DISTINCT FROM x.email_lower OR l.amount_dollars IS DISTINCT FROM x.amount_dollars"
                + " OR l.id IS NULL OR x.id IS NULL"));
        return wrong == 0 ? "yes" : "NO: " + wrong + " rows differ";
    }

    /**
     * One line per contender: medians of its runs; its ratio is the median of its rounds' ratios to the limit run
     * of the same round (a contender run once is compared with the limit's median).
     */
    private void print(Map<String, List<Result>> results) {
        List<Result> limits = results.get(LIMIT);
        double limitRate = Figures.median(limits.stream().mapToDouble(Result::rate));
        System.out.println();
        System.out.printf(Locale.ROOT, "%-57s %10s %8s %8s  %-20s %9s  %s%n", "contender", "rows/s", "wall s", "x limit",
                "x limit per round", "peak RSS", "correct");
        results.forEach((name, runs) -> {
            double[] ratios = new double[runs.size()];
            for (int i = 0; i < runs.size(); i++) {
                ratios[i] = runs.get(i).rate() / (runs.size() == limits.size() ? limits.get(i).rate() : limitRate);
            }
            long rss = runs.stream().mapToLong(r -> r.peakRssKb() == null ? 0 : r.peakRssKb()).max().orElse(0);
            String correct = runs.stream().map(Result::correct).filter(c -> !c.equals("yes")).findFirst().orElse("yes");
            System.out.printf(Locale.ROOT, "%-57s %,10.0f %8.1f %8.2f  %-20s %9s  %s%n", name,
                    Figures.median(runs.stream().mapToDouble(Result::rate)),
                    Figures.median(runs.stream().mapToDouble(Result::seconds)),
                    Figures.median(Arrays.stream(ratios)),
                    runs.size() > 1 ? Figures.each(Arrays.stream(ratios)) : "-", rss == 0 ? "-" : rss / 1024 + " MB", correct);
        });
    }

    private static String settings() {
        StringBuilder sb = new StringBuilder();
        for (String[] s : SETTINGS) {
            sb.append(sb.isEmpty() ? "" : ", ").append(s[0]).append('=').append(s[1]);
        }
        return sb.toString();
    }

    private static void exec(Connection c, String... statements) throws SQLException {
        try (Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    private static String one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
