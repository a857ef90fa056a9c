package dev.sluice.engine.preflight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;

import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.spi.Transformer;
import dev.sluice.engine.testing.DatabaseTest;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Each preflight check on its own, against a real database: what it refuses, naming which field, and what it lets
 * through. Preflight writes nothing, whatever it is asked.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PreflightChecksTest extends DatabaseTest {

    @BeforeAll
    void tables() {
        db.exec(
                "CREATE TABLE t (id int PRIMARY KEY, tenant int NOT NULL, s text, n int NOT NULL DEFAULT 0,"
                        + " g int GENERATED ALWAYS AS (n * 2) STORED)",
                "CREATE UNIQUE INDEX t_tenant_id ON t (tenant, id)",
                "INSERT INTO t (id, tenant, s) SELECT g, g % 3, 'x' || g FROM generate_series(1, 300) g",
                "CREATE TABLE loose (id int, v int)",
                "CREATE TABLE partial (id int NOT NULL, v int)",
                "CREATE UNIQUE INDEX partial_id ON partial (id) WHERE v > 0",
                "CREATE VIEW v AS SELECT * FROM t",
                "CREATE TABLE t_copy (id int PRIMARY KEY, s text)",
                "CREATE TABLE t_nokey (id int, s text)",
                "ANALYZE t");
    }

    private Prepared check(String yaml) throws SQLException {
        return check(yaml, Transformer.Catalog.EMPTY);
    }

    private Prepared check(String yaml, Transformer.Catalog catalog) throws SQLException {
        try (Connection c = ds.getConnection()) {
            return Preflight.check(c, SpecParser.parse("name: p\n" + yaml), catalog);
        }
    }

    private void refuses(String yaml, String message) {
        assertThatThrownBy(() -> check(yaml)).isInstanceOf(SpecException.class).hasMessageStartingWith(message);
    }

    @Test
    void tableMustExistAndBeATable() throws SQLException {
        refuses("table: nosuch\nkey: [id]\nset: { n: 1 }\n", "table: no table 'nosuch'");
        refuses("table: v\nkey: [id]\nset: { n: 1 }\n", "table: 'v' is not a table");
        assertThat(check("table: public.t\nkey: [id]\nset: { n: 1 }\n")
                        .keyset()
                        .table()
                        .qualifiedName())
                .isEqualTo("public.t");
    }

    @Test
    void keyMustBeNotNullAndExactlyAFitUniqueIndexInItsOrder() throws SQLException {
        refuses("table: t\nkey: [nope]\nset: { n: 1 }\n", "key: no column 'nope'");
        refuses("table: loose\nkey: [id]\nset: { v: 1 }\n", "key: column 'id' allows NULL");
        refuses("table: t\nkey: [s]\nset: { n: 1 }\n", "key: column 's' allows NULL");
        refuses("table: t\nkey: [n]\nset: { s: 'a' }\n", "key: no unique index on exactly (n)");
        refuses(
                "table: t\nkey: [id, tenant]\nset: { n: 1 }\n",
                "key: unique index t_tenant_id orders these columns as" + " [tenant, id]");
        refuses("table: partial\nkey: [id]\nset: { v: 1 }\n", "key: unique index partial_id on (id) is partial");
        assertThat(check("table: t\nkey: [tenant, id]\nset: { n: 1 }\n")
                        .keyset()
                        .index()
                        .name())
                .isEqualTo("t_tenant_id");
    }

    @Test
    void targetColumnsMustExistBeWritableAndNotKeys() {
        refuses("table: t\nkey: [id]\nset: { nope: 1 }\n", "set.nope: no column 'nope'");
        refuses("table: t\nkey: [id]\nset: { id: id + 1 }\n", "set.id: 'id' is a key column");
        refuses("table: t\nkey: [id]\nset: { g: 1 }\n", "set.g: 'g' is a generated column");
    }

    @Test
    void expressionsMustTypeCheckWhereTheyRunAndComputeEachRowFromItsRow() {
        refuses(
                "table: t\nkey: [id]\nset: { n: s }\n",
                "set.n: column \"n\" is of type integer but expression is of type text");
        refuses("table: t\nkey: [id]\nset: { n: nope }\n", "set.n: column \"nope\" does not exist");
        refuses("table: t\nkey: [id]\nset: { n: 1 }\nwhere: s\n", "where: argument of WHERE must be type boolean");
        refuses(
                "table: t\nkey: [id]\nset: { n: \"generate_series(1, 2)\" }\n",
                "set.n: computes a set-returning function");
        refuses("table: t\nkey: [id]\nset: { n: \"count(*)\" }\n", "set.n: computes an aggregate function");
        refuses(
                "table: t\nkey: [id]\nset: { n: \"rank() over (order by id)\" }\n",
                "set.n: computes a window function");
        refuses(
                "table: t\nkey: [id]\nset: { n: 1 }\nvalidate: [ { target: n, source: s } ]\n",
                "validate[0].source: operator does not exist: integer = text");
        refuses(
                "table: t\nkey: [id]\nset: { n: 1 }\nvalidate: [ { check: s } ]\n",
                "validate[0].check: argument of WHERE");
    }

    @Test
    void aScalarSubqueryIsOneValuePerRowAndPasses() throws SQLException {
        Prepared p = check("table: t\nkey: [id]\nset: { n: \"(SELECT count(*) FROM t_copy c WHERE c.id = t.id)\" }\n");
        assertThat(p.findings()).anyMatch(f -> f.check().equals("types"));
    }

    @Test
    void copyNeedsATargetWithItsColumnsAndAUniqueIndexOnTheKeyItReceives() throws SQLException {
        refuses("table: t\nkey: [id]\ninto: nosuch\ncolumns: { id: id }\n", "into: no table 'nosuch'");
        refuses("table: t\nkey: [id]\ninto: t_copy\ncolumns: { id: id, nope: s }\n", "columns.nope: no column 'nope'");
        refuses(
                "table: t\nkey: [id]\ninto: t_copy\ncolumns: { s: s }\n",
                "columns: no target column receives key column 'id'");
        refuses(
                "table: t\nkey: [id]\ninto: t_nokey\ncolumns: { id: id, s: s }\n",
                "into: public.t_nokey has no unique index");
        assertThat(check("table: t\nkey: [id]\ninto: t_copy\ncolumns: { id: id, s: upper(s) }\n")
                        .ownCheck())
                .isNotNull();
    }

    @Test
    void aJavaTransformerMustExistBeReadyAndFindItsColumns() throws SQLException {
        Transformer ready = transformer(List.of("s"), List.of("n"), null);
        Transformer notReady = transformer(List.of("s"), List.of("n"), "the key is missing");
        Transformer wrongColumn = transformer(List.of("nope"), List.of("n"), null);
        Transformer.Catalog catalog = name -> Map.of("ready", ready, "not-ready", notReady, "wrong", wrongColumn)
                .get(name);
        assertThatThrownBy(() -> check("table: t\nkey: [id]\ntransformer: nosuch\n", catalog))
                .hasMessageStartingWith("transformer: no transformer named 'nosuch'");
        assertThatThrownBy(() -> check("table: t\nkey: [id]\ntransformer: not-ready\n", catalog))
                .hasMessageStartingWith("transformer: 'not-ready' cannot run here: the key is missing");
        assertThatThrownBy(() -> check("table: t\nkey: [id]\ntransformer: wrong\n", catalog))
                .hasMessageStartingWith("transformer: 'wrong' reads column 'nope'");
        assertThat(check("table: t\nkey: [id]\ntransformer: ready\n", catalog).targets())
                .hasSize(1);
    }

    @Test
    void aStatementTheDriverWouldSplitIsRefusedBeforeItIsSent() throws SQLException {
        try (Connection c = ds.getConnection()) {
            assertThatThrownBy(() -> OneStatement.check(c, "where", "SELECT 1; SELECT 2", 0))
                    .hasMessage("where: must be exactly one SQL expression: the driver would run it as 2 statements");
            assertThatThrownBy(() -> OneStatement.check(c, "set.n", "SELECT ?", 0))
                    .hasMessageContaining("the driver finds 1 parameter(s)");
            OneStatement.check(c, "set.n", "SELECT $$;$$, ?", 1);
        }
    }

    @Test
    void preflightsTransactionIsReadOnlyAndMustNotEndEarly() throws SQLException {
        try (Connection c = ds.getConnection();
                ReadOnly tx = ReadOnly.begin(c);
                Statement st = c.createStatement()) {
            assertThatThrownBy(() -> st.execute("UPDATE t SET n = n + 1"))
                    .hasMessageContaining("read-only transaction");
        }
        try (Connection c = ds.getConnection();
                ReadOnly tx = ReadOnly.begin(c);
                Statement st = c.createStatement()) {
            st.execute("COMMIT");
            assertThatThrownBy(tx::verify).hasMessageContaining("ended before its checks did");
            // What runs after an early COMMIT is read-only too: the session's default is.
            assertThatThrownBy(() -> st.execute("UPDATE t SET n = n + 1"))
                    .hasMessageContaining("read-only transaction");
        }
        assertThat(db.count("SELECT count(*) FROM t WHERE n <> 0")).isZero();
        try (Connection c = ds.getConnection();
                Statement st = c.createStatement()) {
            st.execute("UPDATE t SET n = 0 WHERE false"); // the pool's connection is writable again
        }
    }

    private static Transformer transformer(List<String> reads, List<String> writes, String unready) {
        return new Transformer() {
            @Override
            public List<String> reads() {
                return reads;
            }

            @Override
            public List<String> writes() {
                return writes;
            }

            @Override
            public void ready() {
                if (unready != null) {
                    throw new IllegalStateException(unready);
                }
            }

            @Override
            public Map<String, Object> transform(Row row) {
                return Map.of();
            }
        };
    }
}
