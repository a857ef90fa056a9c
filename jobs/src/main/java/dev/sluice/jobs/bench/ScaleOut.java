package dev.sluice.jobs.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.Fleet;
import dev.sluice.engine.FleetResult;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.spec.FleetSpec;
import dev.sluice.engine.spec.SpecParser;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * {@code bench --scale-out}: beyond one runner. (1) A CPU-heavy Java transform (email-hmac stretched over many rounds,
 * costing far more per row than its write), {@code parallel: 2} on the runner's threads against {@code workers:
 * remote} with two {@code sluice worker} processes; with the per-row costs it rests on: the transform alone on one
 * partition, and the same rows written by a SQL expression (the write alone). (2) A fleet of four databases rolled out
 * at once against four runs one after the other. Runners and workers are JVMs of their own; a run's time is its own
 * (printed by the runner, JVM start-up not included).
 */
final class ScaleOut {

    private static final Pattern SECONDS = Pattern.compile("([0-9.]+)s\\s*$");
    private static final String KEY = "bench-key-0123456789-0123456789-0123456789";

    private final EmbeddedPostgres pg;
    private final long rows;
    private final int hmacRounds;
    private final String xmx;
    private final Path dir;

    ScaleOut(EmbeddedPostgres pg, long rows, int hmacRounds, String xmx) throws IOException {
        this.pg = pg;
        this.rows = rows;
        this.hmacRounds = hmacRounds;
        this.xmx = xmx;
        this.dir = Files.createTempDirectory("sluice-scale-out");
    }

    void run() throws Exception {
        String url = createDatabase("scaleout");
        try (HikariDataSource ds = pool(url);
                Connection c = ds.getConnection()) {
            Harness.exec(
                    c,
                    "CREATE TABLE people (id int PRIMARY KEY, email text NOT NULL, email_hmac text)",
                    "INSERT INTO people (id, email) SELECT g, 'User' || g || '@Example.ORG' FROM generate_series(1, "
                            + rows + ") g",
                    "VACUUM ANALYZE people");
            System.out.printf(
                    Locale.ROOT,
                    "scale-out 1: a CPU-heavy Java transform, %,d rows, email-hmac of %,d rounds per row%n",
                    rows,
                    hmacRounds);
            Map<String, Double> seconds = new LinkedHashMap<>();
            seconds.put("SQL write alone (md5(email)), 1 partition", timed(c, url, "sql", 1, "local", 0));
            seconds.put("Java transform, 1 partition", timed(c, url, "java", 1, "local", 0));
            seconds.put("Java transform, parallel 2 on the runner", timed(c, url, "java", 2, "local", 0));
            seconds.put(
                    "Java transform, parallel 2 on 2 worker processes (workers: remote)",
                    timed(c, url, "java", 2, "remote", 2));
            for (Map.Entry<String, Double> e : seconds.entrySet()) {
                System.out.printf(
                        Locale.ROOT,
                        "  %-72s %8.1f s %,10.0f rows/s %8.1f us/row%n",
                        e.getKey(),
                        e.getValue(),
                        rows / e.getValue(),
                        e.getValue() * 1e6 / rows);
            }
        }
        fleet();
    }

    /** One run of the job in a runner process of its own (and {@code workers} worker processes), its seconds. */
    private double timed(Connection c, String url, String mode, int parallel, String where, int workers)
            throws Exception {
        Harness.exec(c, "UPDATE people SET email_hmac = NULL", "VACUUM people");
        String name = "scale-" + mode + "-p" + parallel + "-" + where;
        Path spec = dir.resolve(name + ".yml");
        Files.writeString(
                spec,
                "name: " + name + "\ntable: people\nkey: [id]\n"
                        + (mode.equals("sql")
                                ? "set: { email_hmac: md5(email) }\n"
                                : "transformer: { name: email-hmac, with: { rounds: \"" + hmacRounds + "\" } }\n")
                        + "parallel: " + parallel + "\nworkers: " + where + "\nchunk: { rows: 500 }\nundo: false\n"
                        + "validate-after-run: false\n");
        List<Process> started = new ArrayList<>();
        try {
            for (int i = 0; i < workers; i++) {
                Path log = dir.resolve(name + "-worker-" + i + ".log");
                started.add(sluice(log, "worker", "--threads", "1", "--jdbc-url", url, "--user", "postgres"));
                awaitLine(log, "taking partitions", started.get(started.size() - 1));
            }
            Path log = dir.resolve(name + ".log");
            Process runner = sluice(log, "run", spec.toString(), "--jdbc-url", url, "--user", "postgres");
            if (!runner.waitFor(30, TimeUnit.MINUTES) || runner.exitValue() != 0) {
                throw new IllegalStateException(name + " did not complete: " + Files.readString(log));
            }
            String last =
                    Files.readString(log).strip().lines().reduce((a, b) -> b).orElse("");
            Matcher m = SECONDS.matcher(last);
            if (!m.find()) {
                throw new IllegalStateException(name + ": no time in '" + last + "'");
            }
            return Double.parseDouble(m.group(1));
        } finally {
            for (Process p : started) {
                p.destroy(); // SIGTERM: a worker stops after its chunk
                p.waitFor(30, TimeUnit.SECONDS);
                p.destroyForcibly();
            }
        }
    }

    /** A fleet of four databases at once against the same four runs one after the other, in this process. */
    private void fleet() throws Exception {
        long each = rows * 5 / 2;
        List<String> urls = new ArrayList<>();
        List<HikariDataSource> pools = new ArrayList<>();
        try {
            for (int i = 1; i <= 4; i++) {
                String url = createDatabase("shard" + i);
                urls.add(url);
                HikariDataSource ds = pool(url);
                pools.add(ds);
                try (Connection c = ds.getConnection()) {
                    Harness.exec(
                            c,
                            "CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL DEFAULT 0)",
                            "INSERT INTO counters (id) SELECT g FROM generate_series(1, " + each + ") g",
                            "VACUUM ANALYZE counters");
                }
            }
            System.out.printf(Locale.ROOT, "scale-out 2: a fleet of 4 databases, %,d rows each, n = n + 1%n", each);
            String job = "name: inc\ntable: counters\nkey: [id]\nset: { n: n + 1 }\nchunk: { rows: 1000 }\n"
                    + "undo: false\nvalidate: [ { check: \"n >= 1\" } ]\n";
            long started = System.nanoTime();
            for (HikariDataSource ds : pools) {
                try (Backfill b = new Backfill(ds)) {
                    RunResult r =
                            b.run(SpecParser.parse(job.replace("name: inc", "name: inc-one")), RunOptions.defaults());
                    if (r.outcome() != RunResult.Outcome.COMPLETED) {
                        throw new IllegalStateException("a sequential run: " + r.message());
                    }
                }
            }
            double sequential = (System.nanoTime() - started) / 1e9;
            StringBuilder yaml = new StringBuilder("name: bench\ntargets:\n");
            for (int i = 0; i < urls.size(); i++) {
                yaml.append("  - { name: shard-")
                        .append(i + 1)
                        .append(", jdbc-url: \"")
                        .append(urls.get(i))
                        .append("\" }\n");
            }
            yaml.append("rollout: { canary: 0, waves: [100%] }\nconcurrency: 4\n");
            FleetSpec spec = SpecParser.parseFleet(yaml.toString());
            Map<String, Backfill> backfills = new HashMap<>();
            for (int i = 0; i < pools.size(); i++) {
                backfills.put("shard-" + (i + 1), new Backfill(pools.get(i)));
            }
            started = System.nanoTime();
            FleetResult r = new Fleet(spec, pools.get(0), "sluice", backfills)
                    .run(SpecParser.parse(job), RunOptions.defaults(), t -> {});
            double fleet = (System.nanoTime() - started) / 1e9;
            backfills.values().forEach(Backfill::close);
            if (r.outcome() != FleetResult.Outcome.COMPLETED) {
                throw new IllegalStateException("the fleet: " + r.message());
            }
            long total = each * 4;
            System.out.printf(
                    Locale.ROOT,
                    "  %-72s %8.1f s %,10.0f rows/s%n  %-72s %8.1f s %,10.0f rows/s (%.2fx)%n",
                    "4 runs one after the other (backfill and validation each)",
                    sequential,
                    total / sequential,
                    "the fleet, 4 targets at once (concurrency: 4)",
                    fleet,
                    total / fleet,
                    sequential / fleet);
        } finally {
            pools.forEach(HikariDataSource::close);
        }
    }

    private String createDatabase(String name) throws SQLException {
        try (Connection c = pg.getPostgresDatabase().getConnection()) {
            Harness.exec(c, "DROP DATABASE IF EXISTS " + name, "CREATE DATABASE " + name);
        }
        return pg.getJdbcUrl("postgres", name).replaceAll("[?&]user=[^&]*", "");
    }

    private static HikariDataSource pool(String url) {
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(url);
        hc.setUsername("postgres");
        hc.setMaximumPoolSize(16);
        return new HikariDataSource(hc);
    }

    private Process sluice(Path log, String... args) throws IOException {
        List<String> command = Contenders.sluice(xmx);
        command.addAll(List.of(args));
        ProcessBuilder pb =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SLUICE_HMAC_KEY", KEY);
        pb.environment().put("SLUICE_LOG_LEVEL", "WARN");
        return pb.start();
    }

    private static void awaitLine(Path log, String text, Process p) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log).contains(text)) {
                return;
            }
            if (!p.isAlive()) {
                throw new IllegalStateException("a worker ended: " + Files.readString(log));
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("a worker did not start: " + Files.readString(log));
    }
}
