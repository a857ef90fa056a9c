package dev.sluice.jobs.bench;

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
import java.util.concurrent.TimeUnit;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.JobStatus;

import org.springframework.jdbc.datasource.SingleConnectionDataSource;

/**
 * {@code sluice bench --load}'s sync rounds: pgbench (TPC-B, which updates {@code abalance} all the time) while Sluice
 * backfills {@code pgbench_accounts.abalance_cents = abalance * 100} at one rate, with {@code sync: none} and with
 * {@code sync: trigger}, alternating in each round: what the trigger costs pgbench's latency, and how many rows
 * behind the backfill's checkpoint each leaves out of step.
 */
final class SyncLoad {

    /** One backfill under pgbench: its mode, pgbench's figures, and the rows behind its checkpoint out of step. */
    record Run(String sync, LoadComparison.Pgbench pgbench, long behind, long outOfStep) {}

    private final Connection c;
    private final Contenders contenders;
    private final int port;
    private final String url;

    SyncLoad(Connection c, Contenders contenders, int port, String url) {
        this.c = c;
        this.contenders = contenders;
        this.port = port;
        this.url = url;
    }

    List<Run[]> rounds(int rounds, long rate, int seconds, int clients) throws Exception {
        List<Run[]> out = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            // Alternate which goes first, so that neither always meets a warmer cache.
            boolean noneFirst = round % 2 == 1;
            Run first = run(noneFirst ? "none" : "trigger", round, rate, seconds, clients);
            Run second = run(noneFirst ? "trigger" : "none", round, rate, seconds, clients);
            Run none = noneFirst ? first : second;
            Run trigger = noneFirst ? second : first;
            out.add(new Run[] {none, trigger});
            System.out.printf(
                    Locale.ROOT,
                    "  sync round %d: latency %.2f ms with sync: none, %.2f ms with sync: trigger;"
                            + " out of step behind the checkpoint: %,d and %,d%n",
                    round,
                    none.pgbench().latencyMs(),
                    trigger.pgbench().latencyMs(),
                    none.outOfStep(),
                    trigger.outOfStep());
        }
        return out;
    }

    private Run run(String sync, int round, long rate, int seconds, int clients) throws Exception {
        String job = "bench-accounts-" + sync + "-" + round;
        try (Statement st = c.createStatement()) {
            st.execute("ALTER TABLE pgbench_accounts DROP COLUMN IF EXISTS abalance_cents");
            st.execute("ALTER TABLE pgbench_accounts ADD COLUMN abalance_cents bigint");
        }
        Path log = Files.createTempFile("sluice-bench-sync", ".log");
        Process backfill = contenders.contender("accounts-" + sync, "pgbench_accounts", job, url, rate, log);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (Long.parseLong(Harness.one(
                            c,
                            "SELECT count(*) FROM (SELECT 1 FROM pgbench_accounts"
                                    + " WHERE abalance_cents IS NOT NULL LIMIT 1) x"))
                    == 0) {
                if (!backfill.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("the backfill did not start: " + Files.readString(log));
                }
                Thread.sleep(200);
            }
            LoadComparison.Pgbench pgbench = LoadComparison.pgbench(port, seconds, clients);
            if (!backfill.isAlive()) {
                throw new IllegalStateException("the backfill ended during pgbench: " + Files.readString(log));
            }
            backfill.destroy();
            backfill.waitFor(60, TimeUnit.SECONDS);
            SingleConnectionDataSource ds = new SingleConnectionDataSource(c, true);
            JobStatus status = new Backfill(ds).status(job);
            long checkpoint = status.lastKey().isEmpty()
                    ? 0
                    : Long.parseLong(status.lastKey().get(0));
            long outOfStep = Long.parseLong(Harness.one(
                    c,
                    "SELECT count(*) FROM pgbench_accounts WHERE aid <= " + checkpoint
                            + " AND abalance_cents IS DISTINCT FROM abalance * 100"));
            if (sync.equals("trigger")) {
                // The next round's job installs its own trigger on the same column: this one goes.
                // The job never finished, so finish would refuse it: the statements recorded to drop its trigger, run
                // here with nothing else writing the table any more.
                dropSyncTrigger(c, job);
            }
            return new Run(sync, pgbench, checkpoint, outOfStep);
        } finally {
            backfill.destroy();
            backfill.waitFor(60, TimeUnit.SECONDS);
            Files.deleteIfExists(log);
        }
    }

    static void print(List<Run[]> rounds, long rate) {
        System.out.println();
        System.out.printf(
                Locale.ROOT,
                "%-42s %11s %11s %8s %-16s %16s%n",
                "pgbench with a backfill at " + String.format(Locale.ROOT, "%,d", rate) + " rows/s",
                "tps",
                "latency ms",
                "ratio",
                "ratio per round",
                "out of step");
        for (String sync : List.of("none", "trigger")) {
            int i = sync.equals("none") ? 0 : 1;
            System.out.printf(
                    Locale.ROOT,
                    "%-42s %,11.0f %11.2f %8s %-16s %16s%n",
                    "sync: " + sync,
                    Figures.median(
                            rounds.stream().mapToDouble(r -> r[i].pgbench().tps())),
                    Figures.median(
                            rounds.stream().mapToDouble(r -> r[i].pgbench().latencyMs())),
                    i == 0
                            ? "1.00"
                            : String.format(
                                    Locale.ROOT,
                                    "%.2f",
                                    Figures.median(rounds.stream()
                                            .mapToDouble(r -> r[1].pgbench().latencyMs()
                                                    / r[0].pgbench().latencyMs()))),
                    i == 0
                            ? ""
                            : Figures.each(rounds.stream()
                                    .mapToDouble(r -> r[1].pgbench().latencyMs()
                                            / r[0].pgbench().latencyMs())),
                    rounds.stream()
                            .map(r -> String.format(Locale.ROOT, "%,d", r[i].outOfStep()))
                            .reduce((a, b) -> a + "/" + b)
                            .orElse(""));
        }
        System.out.println(
                "ratio: pgbench's mean latency with sync: trigger / with sync: none, same backfill rate, median"
                        + " over rounds; out of step: rows behind the checkpoint whose abalance_cents is not abalance * 100, per round");
    }

    private static void dropSyncTrigger(Connection c, String job) throws SQLException {
        List<String> drops = new ArrayList<>();
        try (PreparedStatement ps =
                c.prepareStatement("SELECT unnest(drop_sql) FROM sluice.sync_triggers WHERE job = ?")) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    drops.add(rs.getString(1));
                }
            }
        }
        try (Statement st = c.createStatement()) {
            for (String drop : drops) {
                st.execute(drop);
            }
        }
        try (PreparedStatement ps =
                c.prepareStatement("UPDATE sluice.sync_triggers SET dropped_at = now() WHERE job = ?")) {
            ps.setString(1, job);
            ps.executeUpdate();
        }
    }
}
