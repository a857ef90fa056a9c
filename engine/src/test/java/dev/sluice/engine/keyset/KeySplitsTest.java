package dev.sluice.engine.keyset;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.Key;
import dev.sluice.engine.KeyRange;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.DatabaseTest;
import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.PlanCapture;
import dev.sluice.engine.testing.Postgres;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Cuts tables of a few hundred thousand rows into {@code parallel} key ranges and counts, with SQL, the rows each
 * range really holds: every range within 10% of the mean, on dense and skewed keys, in every physical order. The
 * ranges must also cover the table exactly: their counts add up to the table's rows.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KeySplitsTest extends DatabaseTest {

    // The spec's own bound on a cut: every partition within this share of the mean.
    private static final double TOLERANCE = 0.10;
    private static final KeyRange ALL = new KeyRange(null, null, 0);

    @BeforeAll
    void tables() {
        db.exec(
                "CREATE TABLE dense (id int PRIMARY KEY, n int NOT NULL DEFAULT 0)",
                "INSERT INTO dense (id) SELECT g FROM generate_series(1, 300000) g",
                // Runs of 1,000 ids apart by gaps of 100,000, then a tail of ids far apart: gaps and clusters.
                "CREATE TABLE gappy (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0)",
                "INSERT INTO gappy (id) SELECT g + (g / 1000) * 100000 FROM generate_series(1::bigint, 250000) g"
                        + " UNION ALL SELECT 1000000000000 + g * g FROM generate_series(1::bigint, 50000) g",
                // Most rows on a few leading values of a composite key, in an ICU collation ('acme' < 'Beta' < 'zeta'),
                // then thousands of leading values of one row each.
                "CREATE TABLE skewed (tenant text COLLATE \"en-US-x-icu\" NOT NULL, seq int NOT NULL,"
                        + " n int NOT NULL DEFAULT 0, PRIMARY KEY (tenant, seq))",
                "INSERT INTO skewed (tenant, seq) SELECT 'acme', g FROM generate_series(1, 150000) g"
                        + " UNION ALL SELECT 'Beta', g FROM generate_series(1, 100000) g"
                        + " UNION ALL SELECT 'zeta', g FROM generate_series(1, 40000) g"
                        + " UNION ALL SELECT md5(g::text), 1 FROM generate_series(1, 10000) g",
                // Key order unrelated to where rows lie on disk.
                "CREATE TABLE shuffled (id int PRIMARY KEY, n int NOT NULL DEFAULT 0)",
                "INSERT INTO shuffled (id) SELECT g FROM generate_series(1, 300000) g ORDER BY random()",
                // Whole stretches deleted, and every third row of the rest: pages empty, half empty and full.
                "CREATE TABLE deleted (id int PRIMARY KEY, n int NOT NULL DEFAULT 0)",
                "INSERT INTO deleted (id) SELECT g FROM generate_series(1, 700000) g",
                "DELETE FROM deleted WHERE (id / 50000) % 3 = 1 OR (id < 350000 AND id % 3 = 0)",
                // Partitions of very different sizes: one probe reads the same slot of every partition.
                "CREATE TABLE parted (id int PRIMARY KEY, n int NOT NULL DEFAULT 0) PARTITION BY RANGE (id)",
                "CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (MINVALUE) TO (50001)",
                "CREATE TABLE parted_2 PARTITION OF parted FOR VALUES FROM (50001) TO (250001)",
                "CREATE TABLE parted_3 PARTITION OF parted FOR VALUES FROM (250001) TO (MAXVALUE)",
                "INSERT INTO parted (id) SELECT g FROM generate_series(1, 300000) g",
                "CREATE TABLE small (id int PRIMARY KEY, n int NOT NULL DEFAULT 0)",
                "INSERT INTO small (id) SELECT g * g FROM generate_series(1, 1000) g",
                "ANALYZE");
    }

    static Stream<Arguments> tablesAndParts() {
        List<Arguments> out = new ArrayList<>();
        for (String[] table : List.of(
                new String[] {"dense", "id"},
                new String[] {"gappy", "id"},
                new String[] {"skewed", "tenant, seq"},
                new String[] {"shuffled", "id"},
                new String[] {"deleted", "id"},
                new String[] {"parted", "id"})) {
            for (int parts : new int[] {2, 4, 8, 16}) {
                out.add(Arguments.of(table[0], table[1], parts));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} in {2}")
    @MethodSource("tablesAndParts")
    void everyRangeHoldsWithinTenPerCentOfTheMean(String table, String key, int parts) throws SQLException {
        try (Connection c = ds.getConnection()) {
            Keyset keyset = Keyset.resolve(Catalog.table(c, table), List.of(key.split(", ")));
            assertEven(
                    c,
                    keyset,
                    cut(c, keyset, List.of(ALL), parts).get(0),
                    parts,
                    db.count("SELECT count(*) FROM " + table));
        }
    }

    @Test
    void theSpecsLargestParallelIsEvenToo() throws SQLException {
        try (Connection c = ds.getConnection()) {
            Keyset keyset = Keyset.resolve(Catalog.table(c, "skewed"), List.of("tenant", "seq"));
            assertEven(c, keyset, cut(c, keyset, List.of(ALL), 32).get(0), 32, db.count("SELECT count(*) FROM skewed"));
        }
    }

    @Test
    void whatRemainsOfSeveralRangesIsSharedOutByTheirRows() throws SQLException {
        try (Connection c = ds.getConnection()) {
            Keyset keyset = Keyset.resolve(Catalog.table(c, "shuffled"), List.of("id"));
            // Two unfinished parts of an earlier cut: 40,000 rows left in one, 160,000 in the other (open above). A
            // range never spans both (the keys between are done): the first is cut in two and the second in six,
            // which leaves the largest range (26,667 rows) as small as eight ranges allow.
            List<List<KeyRange>> ranges = cut(c, keyset, List.of(range("60000", "100000"), range("140000", null)), 8);
            assertEven(c, keyset, ranges.get(0), 2, 40_000);
            assertEven(c, keyset, ranges.get(1), 6, 160_000);
        }
    }

    @Test
    void aParallelRunsPartitionsHoldEvenSharesAndApplyEveryRowOnce() throws SQLException {
        db.exec(
                "CREATE TABLE inc (tenant text COLLATE \"en-US-x-icu\" NOT NULL, seq int NOT NULL,"
                        + " n int NOT NULL DEFAULT 0, PRIMARY KEY (tenant, seq))",
                "INSERT INTO inc (tenant, seq) SELECT (ARRAY['acme', 'Beta', 'zeta'])[1 + g % 3], g"
                        + " FROM generate_series(1, 150000) g",
                "ANALYZE inc");
        RunResult run = new Backfill(ds).run(SpecParser.parse("""
                name: inc
                table: inc
                key: [tenant, seq]
                set: { n: n + 1 }
                chunk: { rows: 5000, min-rows: 5000, max-rows: 5000 }
                parallel: 8
                undo: false
                """), RunOptions.defaults());
        assertThat(run.outcome()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.count("SELECT count(*) FROM inc WHERE n <> 1"))
                .as("rows not applied exactly once")
                .isZero();
        List<JobStatus.Partition> partitions = new Backfill(ds).status("inc").partitions();
        assertThat(partitions).hasSize(8);
        for (JobStatus.Partition p : partitions) {
            assertThat(Math.abs(p.rows() - 150_000 / 8.0) / (150_000 / 8.0))
                    .as("%s", partitions)
                    .isLessThanOrEqualTo(TOLERANCE);
        }
    }

    @Test
    void aSmallTableIsCutExactly() throws SQLException {
        try (Connection c = ds.getConnection()) {
            Keyset keyset = Keyset.resolve(Catalog.table(c, "small"), List.of("id"));
            assertEven(c, keyset, cut(c, keyset, List.of(ALL), 8).get(0), 8, 1_000, 0);
        }
    }

    @Test
    void aSmallRemainderOfALargeTableIsCountedExactly() throws SQLException {
        try (Connection c = ds.getConnection()) {
            Keyset keyset = Keyset.resolve(Catalog.table(c, "dense"), List.of("id"));
            // 1,000 rows left in each of two parts of 300,000: probing for them would read far more than counting.
            for (List<KeyRange> ranges : cut(c, keyset, List.of(range("100000", "101000"), range("299000", null)), 4)) {
                assertEven(c, keyset, ranges, 2, 1_000, 0);
            }
        }
    }

    @Test
    void cuttingALargeTableReadsAFewPerCentOfItsRowsAndScansNone() throws SQLException {
        try (HikariDataSource own = Postgres.newDatabase()) {
            new Db(own)
                    .exec(
                            "CREATE TABLE large (id int PRIMARY KEY, n int NOT NULL DEFAULT 0)",
                            "INSERT INTO large (id) SELECT g FROM generate_series(1, 1000000) g",
                            "ANALYZE large");
            try (PlanCapture plans = PlanCapture.on(own, own.getJdbcUrl(), PlanCapture.PlanMode.CUSTOM);
                    Connection c = plans.getConnection()) {
                Keyset keyset = Keyset.resolve(Catalog.table(c, "large"), List.of("id"));
                plans.drain();
                List<Key> cuts = new KeySplits(keyset).cuts(c, List.of(ALL), 4).get(0);
                assertThat(cuts).hasSize(3);
                List<PlanCapture.Scan> scans = PlanCapture.scans(plans.drain(), Set.of("large"));
                assertThat(scans).isNotEmpty().noneMatch(s -> s.nodeType().equals("Seq Scan"));
                // A sample of 7,500 keys and its calibration, not a million.
                assertThat(scans.stream().mapToLong(PlanCapture.Scan::rowsRead).sum())
                        .as("rows read: %s", scans)
                        .isLessThan(50_000);
            }
        }
    }

    /** For each interval, the ranges the cut makes of it, as the partition plan makes them. */
    private static List<List<KeyRange>> cut(Connection c, Keyset keyset, List<KeyRange> intervals, int parts)
            throws SQLException {
        List<List<Key>> cuts = new KeySplits(keyset).cuts(c, intervals, parts);
        List<List<KeyRange>> out = new ArrayList<>();
        for (int i = 0; i < intervals.size(); i++) {
            List<KeyRange> ranges = new ArrayList<>();
            Key lo = intervals.get(i).lo();
            for (Key cut : cuts.get(i)) {
                ranges.add(new KeyRange(lo, cut, 0));
                lo = cut;
            }
            ranges.add(new KeyRange(lo, intervals.get(i).hi(), 0));
            out.add(ranges);
        }
        return out;
    }

    /** The integer keys in {@code (lo, hi]} (null: open above). */
    private static KeyRange range(String lo, String hi) {
        return new KeyRange(new Key(List.of(lo)), hi == null ? null : new Key(List.of(hi)), 0);
    }

    private static void assertEven(Connection c, Keyset keyset, List<KeyRange> ranges, int parts, long total)
            throws SQLException {
        assertEven(c, keyset, ranges, parts, total, TOLERANCE);
    }

    /** {@code parts} ranges holding {@code total} rows in all, each within {@code tolerance} of the mean. */
    private static void assertEven(
            Connection c, Keyset keyset, List<KeyRange> ranges, int parts, long total, double tolerance)
            throws SQLException {
        List<Long> counts = new ArrayList<>();
        for (KeyRange r : ranges) {
            counts.add(count(c, keyset, r));
        }
        assertThat(counts).as("rows per range").hasSize(parts);
        assertThat(counts.stream().mapToLong(Long::longValue).sum())
                .as("rows in all ranges")
                .isEqualTo(total);
        double mean = (double) total / parts;
        for (long n : counts) {
            assertThat(Math.abs(n - mean) / mean)
                    .as("range of %,d rows against a mean of %,.0f: %s", n, mean, counts)
                    .isLessThanOrEqualTo(tolerance);
        }
    }

    private static long count(Connection c, Keyset keyset, KeyRange r) throws SQLException {
        List<String> bounds = new ArrayList<>();
        if (r.lo() != null) {
            bounds.add(keyset.tuple() + " > " + keyset.parameters());
        }
        if (r.hi() != null) {
            bounds.add(keyset.tuple() + " <= " + keyset.parameters());
        }
        String sql = "SELECT count(*) FROM " + keyset.table().qualifiedName()
                + (bounds.isEmpty() ? "" : " WHERE " + String.join(" AND ", bounds));
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            if (r.lo() != null) {
                i = keyset.bind(ps, i, r.lo());
            }
            if (r.hi() != null) {
                keyset.bind(ps, i, r.hi());
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
