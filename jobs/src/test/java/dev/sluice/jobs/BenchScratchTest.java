package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * {@code bench --jdbc-url} runs on a user's own server only in a scratch database: one that holds tables of its own is
 * refused (exit 2, naming a table), and nothing is written to it.
 */
class BenchScratchTest extends CliDatabaseTest {

    @Test
    void aDatabaseWithTablesOfItsOwnIsRefusedAndLeftAsItWas() {
        db.exec("CREATE TABLE orders (id int PRIMARY KEY)");
        Cli.Result r = Cli.run("bench", "--jdbc-url", ds.getJdbcUrl() + "?user=postgres", "--rows", "1000");
        assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(2);
        assertThat(r.err().strip())
                .startsWith("sluice: --jdbc-url: database ")
                .contains("holds tables of its own (public.orders)")
                .contains("scratch database");
        assertThat(db.count("SELECT count(*) FROM pg_class WHERE relname LIKE 'bench%'"))
                .isZero();
        assertThat(db.exists("sluice.batch_job_instance")).isFalse();
    }
}
