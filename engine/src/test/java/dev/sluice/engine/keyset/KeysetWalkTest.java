package dev.sluice.engine.keyset;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.Finding;
import dev.sluice.engine.Key;
import dev.sluice.engine.KeyRange;
import dev.sluice.engine.Plan;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.DatabaseTest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Walks tables chunk by chunk over keys of every supported shape and compares the rows the chunks cover, in
 * order, with what PostgreSQL itself returns for ORDER BY in the index's ordering: no row missed, none twice,
 * whatever the type, collation, sparsity or direction of the index.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KeysetWalkTest extends DatabaseTest {

    static Stream<Arguments> keys() {
        return Stream.of(
                walk(
                        "smallint, sparse with negatives",
                        "a smallint PRIMARY KEY",
                        "SELECT g FROM generate_series(-300, 300, 7) g",
                        "a"),
                walk(
                        "int, squares with wide gaps",
                        "a int PRIMARY KEY",
                        "SELECT g * g * sign(g - 0.5)::int FROM generate_series(0, 400) g",
                        "a"),
                walk(
                        "bigint at both extremes",
                        "a bigint PRIMARY KEY",
                        "SELECT unnest(ARRAY[-9223372036854775808, -1, 0, 1, 9223372036854775806, 9223372036854775807]::bigint[])"
                                + " UNION ALL SELECT g * 1000003 FROM generate_series(2, 200) g",
                        "a"),
                walk(
                        "numeric with scale",
                        "a numeric PRIMARY KEY",
                        "SELECT round(g / 7.0, 6) FROM generate_series(-150, 150) g UNION ALL SELECT 1e20 UNION ALL SELECT -1e-10",
                        "a"),
                walk("uuid", "a uuid PRIMARY KEY", "SELECT md5(g::text)::uuid FROM generate_series(1, 300) g", "a"),
                walk(
                        "text in an ICU collation",
                        "a text COLLATE \"en-US-x-icu\" PRIMARY KEY",
                        "SELECT unnest(ARRAY['', ' ', 'a', 'A', 'á', 'b', 'B', 'z', 'Z', 'ä', '10', '9', 'résumé', 'resume', 'Resume'])"
                                + " UNION ALL SELECT md5(g::text) FROM generate_series(1, 200) g",
                        "a COLLATE \"en-US-x-icu\""),
                walk(
                        "text column in ICU, unique index in C",
                        "a text COLLATE \"de-DE-x-icu\" NOT NULL",
                        "SELECT unnest(ARRAY['a', 'A', 'ä', 'Ä', 'b', 'B', 'z', 'Z', 'ß', 'ss'])"
                                + " UNION ALL SELECT upper(md5(g::text)) FROM generate_series(1, 200) g",
                        "a COLLATE \"C\"",
                        "CREATE UNIQUE INDEX ON k (a COLLATE \"C\")"),
                walk(
                        "varchar with a length",
                        "a varchar(40) PRIMARY KEY",
                        "SELECT 'key-' || g FROM generate_series(1, 300) g",
                        "a"),
                walk(
                        "timestamp with microseconds",
                        "a timestamp PRIMARY KEY",
                        "SELECT timestamp '2024-03-31 00:00' + g * interval '37 minutes 13.123456 seconds' FROM generate_series(1, 300) g",
                        "a"),
                walk(
                        "timestamptz across a DST change",
                        "a timestamptz PRIMARY KEY",
                        "SELECT timestamptz '2024-03-30 22:00+00' + g * interval '7 minutes 0.5 seconds' FROM generate_series(1, 300) g",
                        "a"),
                walk(
                        "date",
                        "a date PRIMARY KEY",
                        "SELECT date '1999-12-25' + g * 3 FROM generate_series(1, 300) g",
                        "a"),
                walk(
                        "composite text (ICU) and int",
                        "g text COLLATE \"de-DE-x-icu\" NOT NULL, s int NOT NULL, PRIMARY KEY (g, s)",
                        "SELECT x, s FROM unnest(ARRAY['a', 'Ä', 'ä', 'b', 'B', 'ss', 'ß']) x, generate_series(1, 60, 4) s",
                        "g COLLATE \"de-DE-x-icu\", s"),
                walk(
                        "composite date and uuid",
                        "d date NOT NULL, u uuid NOT NULL, PRIMARY KEY (d, u)",
                        "SELECT date '2024-01-01' + (g % 5), md5(g::text)::uuid FROM generate_series(1, 300) g",
                        "d, u"),
                walk(
                        "descending unique index",
                        "a int NOT NULL",
                        "SELECT g * 5 FROM generate_series(1, 300) g",
                        "a",
                        "CREATE UNIQUE INDEX ON k (a DESC)"),
                walk("one row", "a int PRIMARY KEY", "SELECT 42", "a"),
                walk("no rows", "a int PRIMARY KEY", "SELECT 1 WHERE false", "a"));
    }

    private static Arguments walk(String name, String columns, String rows, String order, String... extra) {
        return Arguments.of(name, columns, rows, order, extra);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("keys")
    void chunksCoverEveryRowOnceInIndexOrder(String name, String columns, String rows, String order, String[] extra)
            throws SQLException {
        db.exec("DROP TABLE IF EXISTS k", "CREATE TABLE k (" + columns + ", n int NOT NULL DEFAULT 0)");
        db.exec(extra);
        String keyColumns = order.replaceAll(" COLLATE \"[^\"]+\"", "");
        db.exec("INSERT INTO k (" + keyColumns + ") " + rows, "ANALYZE k");
        String text = String.join(
                " || '|' || ",
                List.of(keyColumns.split(", ")).stream().map(c -> c + "::text").toList());
        // Aliased: ORDER BY a name that is also an output column would sort by the text.
        List<String> expected = db.column("SELECT " + text + " AS key_text FROM k ORDER BY " + order);

        List<String> walked = new ArrayList<>();
        try (Connection c = ds.getConnection()) {
            Table table = Catalog.table(c, "k");
            Keyset keyset = Keyset.resolve(table, List.of(keyColumns.split(", ")));
            Chunker chunker = new Chunker(keyset);
            Key lo = null;
            long chunks = 0;
            for (KeyRange range; (range = chunker.next(c, lo, 7)) != null; lo = range.hi()) {
                List<String> inRange = rows(c, keyset, range, text);
                assertThat(inRange).hasSize((int) range.rows());
                walked.addAll(inRange);
                chunks++;
                assertThat(chunks).as("chunks").isLessThanOrEqualTo(expected.size());
            }
        }
        assertThat(walked).containsExactlyElementsOf(expected);

        // The same through the whole engine, with a non-idempotent write.
        RunResult run = new Backfill(ds)
                .run(
                        SpecParser.parse("name: walk\ntable: k\nkey: [" + keyColumns
                                + "]\nset: { n: n + 1 }\nchunk: { rows: 11, min-rows: 1 }\nundo: false\n"),
                        RunOptions.defaults().again(true));
        assertThat(run.outcome()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(run.rows()).isEqualTo(expected.size());
        assertThat(db.count("SELECT count(*) FROM k WHERE n <> 1")).isZero();
    }

    private static List<String> rows(Connection c, Keyset keyset, KeyRange range, String text) throws SQLException {
        String sql = "SELECT " + text + " AS key_text FROM k WHERE "
                + keyset.rangePredicate(keyset.shape(range), (String) null) + " ORDER BY " + keyset.orderBy(false);
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            keyset.bind(ps, 1, range);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    @Test
    void chunkStatementsOfACollatedCompositeKeyUseTheIndex() throws SQLException {
        db.exec(
                "DROP TABLE IF EXISTS big",
                "CREATE TABLE big (g text COLLATE \"en-US-x-icu\" NOT NULL, s int NOT NULL,"
                        + " v text, PRIMARY KEY (g, s))",
                "INSERT INTO big SELECT md5((x % 500)::text), x, NULL FROM generate_series(1, 50000) x",
                "ANALYZE big");
        Plan plan =
                new Backfill(ds).plan(SpecParser.parse("name: big\ntable: big\nkey: [g, s]\nset: { v: upper(g) }\n"));
        assertThat(plan.findings())
                .filteredOn(f -> f.check().equals("index use"))
                .hasSize(2)
                .allMatch(f -> f.level() == Finding.Level.OK, "uses big_pkey");
        assertThat(plan.statements().get(0).sql()).contains("(\"g\" COLLATE pg_catalog.\"en-US-x-icu\", \"s\") > ");
    }
}
