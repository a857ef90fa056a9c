package dev.sluice.jobs.bench;

import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.StopSignal;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.jobs.transformers.EmailLowerDollars;
import dev.sluice.jobs.transformers.TransformerCatalog;

/**
 * {@code bench --scale}: a chunk costs the same on any table. The same job, in fixed chunks, on a small table and on
 * a large one (10,000,000 rows by default): the median time of its chunks (after a warm-up) on each, and their ratio.
 * A chunk statement that read more than its own range (a sequential scan, a hash join over the table) would take
 * time in proportion to the table: a hundred times longer on the large one. Per key kind (bigint; a composite key
 * whose first column holds few values, the planner's worst case) and per mode, with the undo journal (the default).
 */
final class ScaleCheck {

    // Enough chunks for a steady median; the first ones warm the caches and the plans (custom, then generic).
    static final int WARM_UP = 10;
    static final int MEASURED = 80;
    static final int CHUNK = 1000;

    /** One measurement: a kind of job on a table of {@code rows}, its median chunk time. */
    record Row(String key, String mode, long rows, double medianMillis) {}

    private final DataSource ds;
    private final Connection c;

    ScaleCheck(DataSource ds, Connection c) {
        this.ds = ds;
        this.c = c;
    }

    /**
     * Creates the tables of every size, then measures each kind of job on each size in alternating rounds (small, large,
     * small, ...), so that a busy minute of a shared machine weighs on one round, not on one size; each measurement a
     * job of its own name.
     */
    List<Row> run(List<Long> sizes, int rounds) throws Exception {
        for (long rows : sizes) {
            System.out.printf(Locale.ROOT, "  tables of %,d rows...%n", rows);
            String rest =
                    "email text NOT NULL, amount_cents bigint NOT NULL, email_lower text, amount_dollars numeric(12, 2)";
            create("scale_big_" + rows, "id bigint PRIMARY KEY, " + rest, "g", rows);
            create(
                    "scale_comp_" + rows,
                    "tenant text NOT NULL, id bigint NOT NULL, " + rest + ", PRIMARY KEY (tenant, id)",
                    "CASE WHEN g % 10 = 0 THEN 'beta' ELSE 'acme' END, g",
                    rows);
            for (String key : List.of("big", "comp")) {
                try (Statement st = c.createStatement()) {
                    st.execute("CREATE TABLE scale_" + key + "_" + rows + "_copy (LIKE scale_" + key + "_" + rows
                            + " INCLUDING ALL)");
                }
            }
        }
        List<Row> out = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            for (String key : List.of("big", "comp")) {
                String keyList = key.equals("big") ? "[id]" : "[tenant, id]";
                String label = key.equals("big") ? "bigint" : "(tenant, id)";
                String rest = "email: email, amount_cents: amount_cents, email_lower: lower(email),"
                        + " amount_dollars: amount_cents / 100.0 }";
                String columns = key.equals("big") ? "{ id: id, " + rest : "{ tenant: tenant, id: id, " + rest;
                for (long rows : sizes) {
                    String table = "scale_" + key + "_" + rows;
                    String suffix = "-r" + round;
                    out.add(measure(
                            label,
                            "in place",
                            rows,
                            table,
                            suffix,
                            "key: " + keyList + "\nset: { email_lower: lower(email) }"));
                    out.add(measure(
                            label,
                            "Java",
                            rows,
                            table,
                            suffix,
                            "key: " + keyList + "\ntransformer: " + EmailLowerDollars.NAME));
                    out.add(measure(
                            label,
                            "copy",
                            rows,
                            table,
                            suffix,
                            "key: " + keyList + "\ninto: " + table + "_copy\ncolumns: " + columns));
                }
            }
        }
        return out;
    }

    /** A table of {@code rows} rows: its columns, and the key's values from {@code g} (1 .. rows). */
    private void create(String table, String columns, String keyValues, long rows) throws Exception {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TABLE " + table + " (" + columns + ")");
            st.execute("INSERT INTO " + table + " SELECT " + keyValues
                    + ", 'User' || g || '@Example.COM', g, NULL, NULL" + " FROM generate_series(1, " + rows + ") g");
            st.execute("VACUUM ANALYZE " + table);
        }
    }

    private Row measure(String key, String mode, long rows, String table, String suffix, String body) throws Exception {
        List<Long> nanos = new ArrayList<>();
        StopSignal stop = new StopSignal();
        AtomicInteger seen = new AtomicInteger();
        String name = table.replace('_', '-') + "-" + mode.replace(' ', '-').toLowerCase(Locale.ROOT) + suffix;
        Backfill backfill =
                Backfill.builder(ds).transformers(TransformerCatalog.INSTANCE).build();
        RunResult r = backfill.run(
                SpecParser.parse("name: " + name + "\ntable: " + table + "\n" + body + "\nchunk: { rows: " + CHUNK
                        + ", min-rows: " + CHUNK + ", max-rows: " + CHUNK + " }\nvalidate-after-run: false\n"),
                RunOptions.defaults().withStop(stop).withObserver(report -> {
                    if (seen.incrementAndGet() > WARM_UP) {
                        nanos.add(report.nanos());
                    }
                    if (nanos.size() >= MEASURED) {
                        stop.request("measured enough chunks");
                    }
                }));
        if (nanos.size() < MEASURED / 2) {
            throw new IllegalStateException(name + " measured " + nanos.size() + " chunks: " + r.message());
        }
        nanos.sort(null);
        double median = nanos.get(nanos.size() / 2) / 1e6;
        System.out.printf(Locale.ROOT, "    %-13s %-9s %,12d rows: %.2f ms a chunk%n", key, mode, rows, median);
        return new Row(key, mode, rows, median);
    }

    /** Per key kind and mode: the median over the rounds of each size's median chunk time, and their ratio. */
    static void print(List<Row> rows, long small, long large) {
        System.out.printf(
                Locale.ROOT,
                "%nscale: median time of a fixed %,d-row chunk (after %d warm-up chunks, %d measured;"
                        + " the median of the rounds), undo journal on%n",
                CHUNK,
                WARM_UP,
                MEASURED);
        System.out.printf(
                Locale.ROOT,
                "%-13s %-9s %14s %14s %7s%n",
                "key",
                "mode",
                String.format(Locale.ROOT, "%,d rows", small),
                String.format(Locale.ROOT, "%,d rows", large),
                "ratio");
        rows.stream().map(r -> r.key() + "|" + r.mode()).distinct().forEach(kind -> {
            double a = median(rows, kind, small);
            double b = median(rows, kind, large);
            String[] k = kind.split("\\|", -1);
            System.out.printf(Locale.ROOT, "%-13s %-9s %11.2f ms %11.2f ms %6.2fx%n", k[0], k[1], a, b, b / a);
        });
    }

    private static double median(List<Row> rows, String kind, long size) {
        List<Double> times = rows.stream()
                .filter(r -> (r.key() + "|" + r.mode()).equals(kind) && r.rows() == size)
                .map(Row::medianMillis)
                .sorted()
                .toList();
        return times.get(times.size() / 2);
    }
}
