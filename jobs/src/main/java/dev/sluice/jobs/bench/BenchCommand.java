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
@Command(name = "bench", description = "Benchmark Sluice against the one-statement limit and common alternatives.")
public class BenchCommand implements Callable<Integer> {

    // Server settings stated in the output: enough memory that the table's working set is cached, fsync off so
    // the disk of a shared machine does not dominate; the same for every contender.
    private static final String[][] SETTINGS = {
            {"shared_buffers", "512MB"}, {"max_wal_size", "4GB"}, {"checkpoint_timeout", "30min"},
            {"synchronous_commit", "off"}, {"fsync", "off"}, {"full_page_writes", "off"}, {"autovacuum", "off"}};

    @Option(names = "--rows", defaultValue = "5000000", description = "rows in the table (default: ${DEFAULT-VALUE})")
    long rows;

    @Option(names = "--chunk", defaultValue = "1000", description = "batch and chunk size (default: ${DEFAULT-VALUE})")
    int chunk;

    @Option(names = "--offset-budget", defaultValue = "120", paramLabel = "SECONDS",
            description = "time the OFFSET loop gets before it is stopped (default: ${DEFAULT-VALUE})")
    int offsetBudget;

    @Option(names = "--xmx", defaultValue = "256m", description = "heap of the JVM contenders (default: ${DEFAULT-VALUE})")
    String xmx;

    @Option(names = "--only", split = ",", paramLabel = "CONTENDER",
            description = "run only these contenders (the limit always runs): plpgsql, spring-batch, offset, sluice-sql, sluice-java")
    Set<String> only;

    @Option(names = "--load", description = "instead of the contenders: pgbench alone, then with a throttled backfill")
    boolean load;

    @Option(names = "--load-seconds", defaultValue = "30", description = "each pgbench run (default: ${DEFAULT-VALUE})")
    int loadSeconds;

    @Option(names = "--load-rate", defaultValue = "20000", description = "the backfill's rows/s (default: ${DEFAULT-VALUE})")
    long loadRate;

    @Option(names = "--load-clients", defaultValue = "4", description = "pgbench clients (default: ${DEFAULT-VALUE})")
    int loadClients;

    private record Result(String name, double seconds, long rowsDone, Long peakRssKb, String correct) {
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
            exec(c, "CREATE TABLE bench_base (id bigint PRIMARY KEY, email text NOT NULL, amount_cents bigint NOT NULL,"
                    + " email_lower text, amount_dollars numeric(12, 2))",
                    "INSERT INTO bench_base (id, email, amount_cents) SELECT g, 'Customer' || g || '@Example.COM',"
                            + " (g::bigint * 7919) % 10000000 FROM generate_series(1, " + rows + ") g",
                    "VACUUM ANALYZE bench_base");
            if (load) {
                return load(c, pg.getPort(), url);
            }
            List<Result> results = new ArrayList<>();
            results.add(sql(c, "limit", "one UPDATE of the whole table", "UPDATE %s SET email_lower = lower(email),"
                    + " amount_dollars = amount_cents / 100.0"));
            if (runs("plpgsql")) {
                results.add(sql(c, "plpgsql", "PL/pgSQL keyset loop, COMMIT per batch", """
                    DO $$ DECLARE lo bigint := 0; hi bigint; BEGIN
                      LOOP
                        SELECT max(id) INTO hi FROM (SELECT id FROM %1$s WHERE id > lo ORDER BY id LIMIT %2$d) b;
                        EXIT WHEN hi IS NULL;
                        UPDATE %1$s SET email_lower = lower(email), amount_dollars = amount_cents / 100.0
                          WHERE id > lo AND id <= hi;
                        COMMIT;
                        lo := hi;
                      END LOOP;
                    END $$"""));
            }
            if (runs("spring-batch")) {
                results.add(jvm(c, url, "spring-batch", "Spring Batch: JdbcPagingItemReader + JdbcBatchItemWriter"));
            }
            if (runs("offset")) {
                results.add(offset(c));
            }
            if (runs("sluice-sql")) {
                results.add(jvm(c, url, "sluice-sql", "Sluice, SQL mode, checkpoint per chunk"));
            }
            if (runs("sluice-java")) {
                results.add(jvm(c, url, "sluice-java", "Sluice, Java transformer mode"));
            }
            print(results);
            // The OFFSET loop is stopped at its budget on purpose; every contender that finished must be correct.
            return results.stream().allMatch(r -> r.correct().equals("yes") || r.correct().startsWith("stopped"))
                    ? ExitCode.DONE : ExitCode.FAILED;
        }
    }

    private boolean runs(String contender) {
        return only == null || only.contains(contender);
    }

    private int load(Connection c, int port, String url) throws Exception {
        String version = LoadComparison.version();
        if (version == null) {
            System.err.println("sluice bench: --load needs pgbench on the PATH (Debian: apt-get install postgresql-client)");
            return ExitCode.BAD_INPUT;
        }
        System.out.printf(Locale.ROOT, "load: %s, TPC-B scale 10, %d clients, %d s per run; backfill limited to %,d rows/s%n",
                version, loadClients, loadSeconds, loadRate);
        LoadComparison.init(port, 10);
        exec(c, "CHECKPOINT");
        LoadComparison.Pgbench alone = LoadComparison.pgbench(port, loadSeconds, loadClients);
        String t = copy(c, "load");
        Process backfill = contender("sluice-sql", t, url, loadRate, Files.createTempFile("sluice-bench-load", ".log"));
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (Long.parseLong(one(c, "SELECT count(*) FROM " + t + " WHERE email_lower IS NOT NULL")) == 0) {
                if (!backfill.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("the backfill did not start");
                }
                Thread.sleep(200);
            }
            long before = Long.parseLong(one(c, "SELECT count(*) FROM " + t + " WHERE email_lower IS NOT NULL"));
            long started = System.nanoTime();
            LoadComparison.Pgbench loaded = LoadComparison.pgbench(port, loadSeconds, loadClients);
            long after = Long.parseLong(one(c, "SELECT count(*) FROM " + t + " WHERE email_lower IS NOT NULL"));
            double rate = (after - before) / ((System.nanoTime() - started) / 1e9);
            LoadComparison.print(alone, loaded, rate, loadRate);
            return alone.failed() == 0 && loaded.failed() == 0 ? ExitCode.DONE : ExitCode.FAILED;
        } finally {
            backfill.destroy();
            backfill.waitFor(60, TimeUnit.SECONDS);
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
        String t = copy(c, contender.replace('-', '_'));
        Path log = Files.createTempFile("sluice-bench-" + contender, ".log");
        Process p = contender(contender, t, url, 0, log);
        long peak = 0;
        while (!p.waitFor(50, TimeUnit.MILLISECONDS)) {
            peak = Math.max(peak, peakRssKb(p.pid()));
        }
        String out = Files.readString(log);
        Files.deleteIfExists(log);
        if (p.exitValue() != 0 || !out.contains("elapsed=")) {
            return new Result(name, 0, 0, peak == 0 ? null : peak, "failed: " + out.lines().filter(l -> !l.isBlank())
                    .reduce((a, b) -> b).orElse("exit " + p.exitValue()));
        }
        double seconds = Double.parseDouble(out.substring(out.lastIndexOf("elapsed=") + 8).trim().split("\\s")[0]);
        return new Result(name, seconds, rows, peak == 0 ? null : peak, check(c, t));
    }

    /** Starts a contender in a JVM of its own. */
    private Process contender(String contender, String t, String url, long rate, Path log) throws IOException {
        // Started as 'java -jar sluice.jar', the class path is the jar; from an IDE or a test, the classes.
        String classPath = System.getProperty("java.class.path");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + xmx));
        if (classPath.endsWith(".jar") && !classPath.contains(java.io.File.pathSeparator)) {
            command.addAll(List.of("-jar", classPath));
        } else {
            command.addAll(List.of("-cp", classPath, "dev.sluice.jobs.cli.SluiceCommand"));
        }
        command.addAll(List.of("bench-contender", contender, t, "--jdbc-url", url, "--chunk", String.valueOf(chunk),
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
        String t = "bench_" + name;
        exec(c, "DROP TABLE IF EXISTS " + t, "CREATE TABLE " + t + " (LIKE bench_base INCLUDING ALL)",
                "INSERT INTO " + t + " SELECT * FROM bench_base", "VACUUM ANALYZE " + t, "CHECKPOINT");
        String visible = one(c, "SELECT relallvisible >= relpages FROM pg_class WHERE oid = '" + t + "'::regclass");
        if (!visible.equals("t")) {
            throw new IllegalStateException("VACUUM left " + t + " not all-visible: contenders would not start alike");
        }
        return t;
    }

    /** Equal to the limit's result, row for row. */
    private String check(Connection c, String t) throws SQLException {
        if (t.equals("bench_limit")) {
            return "yes";
        }
        long wrong = Long.parseLong(one(c, "SELECT count(*) FROM bench_limit l FULL JOIN " + t + " x USING (id)"
                + " WHERE l.email_lower IS DISTINCT FROM x.email_lower OR l.amount_dollars IS DISTINCT FROM x.amount_dollars"
                + " OR l.id IS NULL OR x.id IS NULL"));
        if (t.equals("bench_limit") || wrong == 0) {
            return "yes";
        }
        return "NO: " + wrong + " rows differ";
    }

    private void print(List<Result> results) {
        double limit = rows / results.get(0).seconds();
        System.out.println();
        System.out.printf(Locale.ROOT, "%-46s %12s %9s %8s %10s  %s%n", "contender", "rows/s", "wall s", "x limit",
                "peak RSS", "correct");
        for (Result r : results) {
            double rate = r.seconds() > 0 ? r.rowsDone() / r.seconds() : 0;
            System.out.printf(Locale.ROOT, "%-46s %,12.0f %9.1f %8.2f %10s  %s%n", r.name(), rate, r.seconds(),
                    rate / limit, r.peakRssKb() == null ? "-" : r.peakRssKb() / 1024 + " MB", r.correct());
        }
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
