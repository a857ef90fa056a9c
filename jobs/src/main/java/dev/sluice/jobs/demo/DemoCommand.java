package dev.sluice.jobs.demo;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.CostEstimate;
import dev.sluice.engine.Finding;
import dev.sluice.engine.FinishResult;
import dev.sluice.engine.Plan;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.ValidationResult;
import dev.sluice.engine.spec.Durations;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.jobs.cli.CostLines;
import dev.sluice.jobs.cli.ExitCode;
import dev.sluice.jobs.cli.Progress;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sluice demo}: a real PostgreSQL (embedded binaries, no install, no Docker), a seeded table, the full
 * backfill with progress, a check of the result, and a summary. Everything is thrown away at the end.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = "Embedded PostgreSQL, seeded table, full run and a check of the result.")
public class DemoCommand implements Callable<Integer> {

    private static final String SPEC = "/dev/sluice/jobs/demo/orders-email-lower.yml";

    @Option(names = "--rows", defaultValue = "1000000", description = "rows to seed (default: ${DEFAULT-VALUE})")
    long rows;

    @Option(
            names = "--plant",
            defaultValue = "0",
            paramLabel = "N",
            description = "after the run, corrupt N rows, validate (finds N), repair, validate again (finds 0)")
    long plant;

    @Override
    public Integer call() throws Exception {
        if (rows < 1) {
            throw new SpecException("--rows", "must be at least 1, got " + rows);
        }
        if (plant < 0) {
            throw new SpecException("--plant", "must be 0 or more, got " + plant);
        }
        JobSpec spec = SpecParser.parse(resource(SPEC));
        System.out.println("sluice demo: starting an embedded PostgreSQL server");
        try (EmbeddedPostgres pg = EmbeddedServer.start(EmbeddedPostgres.builder());
                HikariDataSource ds = pool(pg.getJdbcUrl("postgres", "postgres"))) {
            String version = query(ds, "SHOW server_version");
            System.out.printf(
                    Locale.ROOT,
                    "sluice demo: PostgreSQL %s on port %d; seeding public.orders with %,d rows%n",
                    version,
                    pg.getPort(),
                    rows);
            long seeded = seed(ds);
            System.out.printf(Locale.ROOT, "sluice demo: seeded in %.1fs%n%n", seeded / 1e9);

            Backfill backfill = new Backfill(ds);
            Plan plan = backfill.plan(spec);
            System.out.println("preflight of " + spec.name() + ":");
            for (Finding f : plan.findings()) {
                System.out.printf(
                        "  %-4s %-10s %s%n", f.level() == Finding.Level.OK ? "ok" : "WARN", f.check(), f.detail());
            }
            CostEstimate cost = backfill.estimate(spec);
            System.out.println();
            System.out.println("plan's cost estimate (a sample written and rolled back):");
            for (String line : CostLines.of(cost)) {
                System.out.println("  " + line);
            }
            System.out.println();
            System.out.println("running: UPDATE public.orders SET email_lower = lower(email) in key ranges, from "
                    + spec.chunk().rows() + " rows per chunk sized toward "
                    + Durations.format(spec.chunk().target())
                    + " each; every chunk commits with its checkpoint");
            System.out.println("meanwhile an application writes: it changes emails and inserts orders, behind the"
                    + " checkpoint and ahead of it; the sync trigger keeps those rows in step");
            Progress progress = Progress.console();
            RunResult result;
            long written;
            long walBefore = Long.parseLong(query(ds, WAL_POSITION));
            try (Writer app = new Writer(ds, rows)) {
                result = backfill.run(spec, RunOptions.defaults().withObserver(progress));
                progress.finish();
                written = app.stop();
            }
            long wal = Long.parseLong(query(ds, WAL_POSITION)) - walBefore;
            System.out.printf(
                    Locale.ROOT,
                    "%nthe application wrote %,d rows during the run; sluice validate after it" + " stopped:%n",
                    written);
            ValidationResult after = backfill.validate(spec, RunOptions.defaults());
            System.out.printf(Locale.ROOT, "  %,d rows checked, %,d mismatches%n", after.rows(), after.mismatches());
            long wrong = Long.parseLong(
                    query(ds, "SELECT count(*) FROM public.orders WHERE email_lower IS DISTINCT FROM lower(email)"));
            summary(result, wrong);
            System.out.printf(
                    Locale.ROOT,
                    "  WAL          %,.1f MB written while it ran, %,.1f MB/s under a budget of %,.0f MB/s"
                            + " (the application's writes included); plan estimated %,.1f MB%n",
                    wal / 1048576.0,
                    result.seconds() > 0 ? wal / 1048576.0 / result.seconds() : 0,
                    spec.throttle().walBytesPerSecond().bytes() / 1048576.0,
                    cost.walBytes() / 1048576.0);
            boolean ok = result.outcome() == RunResult.Outcome.COMPLETED && wrong == 0 && after.clean();
            if (ok && plant > 0) {
                ok = plantAndRepair(ds, backfill, spec);
            }
            if (ok) {
                ok = contract(ds, backfill, spec);
            }
            return ok ? ExitCode.DONE : ExitCode.FAILED;
        }
    }

    private boolean plantAndRepair(HikariDataSource ds, Backfill backfill, JobSpec spec) throws SQLException {
        long every = Math.max(1, rows / plant);
        try (Connection c = ds.getConnection();
                Statement st = c.createStatement()) {
            st.execute("UPDATE public.orders SET email_lower = 'planted' WHERE id IN (SELECT id FROM public.orders"
                    + " WHERE id % " + every + " = 0 ORDER BY id LIMIT " + plant + ")");
        }
        System.out.printf(Locale.ROOT, "%nplanted %,d mismatches; sluice validate:%n", plant);
        ValidationResult found = backfill.validate(spec, RunOptions.defaults());
        System.out.printf(
                Locale.ROOT,
                "  %,d rows checked, %,d mismatches (exit code would be %d)%n",
                found.rows(),
                found.mismatches(),
                found.clean() ? ExitCode.DONE : ExitCode.MISMATCHES);
        System.out.println("sluice run --only-mismatched (repair, then validate again):");
        ValidationResult repaired = backfill.repair(spec, RunOptions.defaults());
        System.out.printf(
                Locale.ROOT,
                "  %,d rows repaired; then %,d rows checked, %,d mismatches (exit code would be" + " %d)%n",
                repaired.repaired() == null ? 0 : repaired.repaired(),
                repaired.rows(),
                repaired.mismatches(),
                repaired.clean() ? ExitCode.DONE : ExitCode.MISMATCHES);
        return found.mismatches() == plant && repaired.clean();
    }

    /** The contract step, while the application writes: its steps, and the longest any of its statements waited. */
    private boolean contract(HikariDataSource ds, Backfill backfill, JobSpec spec) throws Exception {
        System.out.printf(
                Locale.ROOT,
                "%nsluice finish (the contract step) while the application writes: drop the sync trigger, then"
                        + " %d step(s), each under a lock_timeout of at most %s%n",
                spec.contract().size(),
                Durations.format(spec.timeouts().lock()));
        FinishResult finished;
        long longest;
        long statements;
        try (Writer app = new Writer(ds, rows)) {
            finished = backfill.finish(spec.name(), spec, false, "demo");
            statements = app.statements.get();
            longest = app.longestNanos.get();
        }
        for (FinishResult.Step step : finished.steps()) {
            System.out.printf(Locale.ROOT, "  %-24s done in %.1f s%n", step.step(), step.seconds());
        }
        System.out.println("  " + finished.message());
        System.out.printf(
                Locale.ROOT,
                "  the application ran %,d statements meanwhile; the longest waited %,.0f ms%n",
                statements,
                longest / 1e6);
        return finished.finished();
    }

    /**
     * The application: one session that, until stopped, changes the email of a random order or inserts one (below
     * the keys the seed used, and above them), in transactions of one statement, as a web application would.
     */
    private static final class Writer implements AutoCloseable {
        private final Thread thread;
        private final AtomicBoolean stop = new AtomicBoolean();
        private final AtomicLong written = new AtomicLong();
        private final AtomicLong statements = new AtomicLong();
        private final AtomicLong longestNanos = new AtomicLong();
        private volatile Exception failure;

        Writer(HikariDataSource ds, long rows) {
            thread = new Thread(
                    () -> {
                        Random random = new Random();
                        long below = 0;
                        long above = rows;
                        try (Connection c = ds.getConnection();
                                Statement st = c.createStatement()) {
                            try (java.sql.ResultSet rs = st.executeQuery(
                                    "SELECT least(min(id), 1) - 1, greatest(max(id), 0) FROM public.orders")) {
                                rs.next();
                                below = rs.getLong(1) + 1; // new keys go on below and above what is there
                                above = rs.getLong(2);
                            }
                            while (!stop.get()) {
                                long id = 1 + (long) (random.nextDouble() * rows);
                                // The application's expanded version: it writes the new column too, and every email
                                // it writes is its row's own (the contract adds a unique index).
                                String sql = switch (random.nextInt(4)) {
                                    case 0 -> insert(--below, "'Early" + below + "@Example.COM'");
                                    case 1 -> insert(++above, "'Late" + above + "@Example.COM'");
                                    default -> {
                                        String email = "'Changed" + id + "@Example.ORG'";
                                        yield "UPDATE public.orders SET email = " + email + ", email_lower = lower("
                                                + email + ") WHERE id = " + id;
                                    }
                                };
                                long started = System.nanoTime();
                                written.addAndGet(st.executeUpdate(sql));
                                longestNanos.accumulateAndGet(System.nanoTime() - started, Math::max);
                                statements.incrementAndGet();
                                Thread.sleep(1);
                            }
                        } catch (Exception e) {
                            failure = e;
                        }
                    },
                    "demo-application");
            thread.start();
        }

        private static String insert(long id, String email) {
            return "INSERT INTO public.orders (id, email, email_lower, amount_cents) VALUES (" + id + ", " + email
                    + ", lower(" + email + "), 100)";
        }

        /** Stops the writes; returns how many rows they wrote. */
        long stop() throws Exception {
            stop.set(true);
            thread.join();
            if (failure != null) {
                throw failure;
            }
            return written.get();
        }

        @Override
        public void close() throws Exception {
            stop();
        }
    }

    private long seed(HikariDataSource ds) throws SQLException {
        long started = System.nanoTime();
        try (Connection c = ds.getConnection();
                Statement st = c.createStatement()) {
            st.execute("CREATE TABLE public.orders (id bigint PRIMARY KEY, email text NOT NULL, email_lower text,"
                    + " amount_cents bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now())");
            st.execute(
                    "INSERT INTO public.orders (id, email, amount_cents) SELECT g, 'Customer' || g || '@Example.COM',"
                            + " (g::bigint * 7919) % 100000 FROM generate_series(1, " + rows + ") g");
            st.execute("VACUUM ANALYZE public.orders");
        }
        return System.nanoTime() - started;
    }

    // The server's WAL insert position, in bytes from the start of WAL.
    private static final String WAL_POSITION = "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint";

    private static void summary(RunResult r, long wrong) {
        System.out.println();
        System.out.println("summary");
        System.out.printf(Locale.ROOT, "  outcome      %s%n", r.outcome());
        System.out.printf(Locale.ROOT, "  rows         %,d (%,d written)%n", r.rows(), r.written());
        System.out.printf(Locale.ROOT, "  chunks       %,d%n", r.chunks());
        System.out.printf(Locale.ROOT, "  duration     %.2fs%n", r.seconds());
        System.out.printf(Locale.ROOT, "  rate         %,.0f rows/s%n", r.seconds() > 0 ? r.rows() / r.seconds() : 0);
        if (r.validation() != null) {
            System.out.printf(
                    Locale.ROOT,
                    "  validation   %,d rows checked, %,d mismatches%n",
                    r.validation().rows(),
                    r.validation().mismatches());
        }
        System.out.printf(
                Locale.ROOT, "  check        %,d rows where email_lower IS DISTINCT FROM lower(email)%n", wrong);
    }

    private static HikariDataSource pool(String url) {
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(url);
        hc.setUsername("postgres");
        // The runner lock, a chunk, the lock-waiter watch, the read ahead, the throttle record, the mailbox.
        hc.setMaximumPoolSize(8);
        hc.setPoolName("sluice-demo");
        return new HikariDataSource(hc);
    }

    private static String query(HikariDataSource ds, String sql) throws SQLException {
        try (Connection c = ds.getConnection();
                Statement st = c.createStatement();
                var rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static String resource(String path) throws IOException {
        try (InputStream in = DemoCommand.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IOException("missing resource " + path);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
