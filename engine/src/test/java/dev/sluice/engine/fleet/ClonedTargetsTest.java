package dev.sluice.engine.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.Fleet;
import dev.sluice.engine.FleetResult;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.spec.FleetSpec;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Postgres;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two targets cloned from one database (a template, or a backup restored per shard) start with the same job
 * repository, ids included. Spring Batch shares a running step's context across a JVM by its execution's id: run at
 * once by one process, the two would write each other's checkpoints. The rollout keeps their ids apart, and each row of
 * {@code n = n + 1} is applied exactly once on each.
 */
class ClonedTargetsTest {

    private static final String JOB = """
            name: inc
            table: t
            key: [id]
            set: { n: n + 1 }
            chunk: { rows: 200, min-rows: 200, max-rows: 200 }
            throttle: { rows-per-second: 4000 }
            validate: [ { check: "n = 1" } ]
            """;

    @Test
    @Timeout(120)
    void targetsClonedFromOneDatabaseRunAtOnceEachRowOnce() throws Exception {
        String template;
        try (HikariDataSource ds = Postgres.newDatabase()) {
            template = Postgres.databaseOf(ds);
            Db db = new Db(ds);
            db.counters("t", 5000);
            try (Backfill b = new Backfill(ds)) {
                RunResult warm = b.run(
                        SpecParser.parse(JOB.replace("name: inc", "name: warm")
                                .replace("n: n + 1", "n: n")
                                .replace("n = 1", "n = 0")),
                        RunOptions.defaults());
                assertThat(warm.outcome()).as(warm.message()).isEqualTo(RunResult.Outcome.COMPLETED);
            }
        }
        String clone = template + "_clone";
        try (Connection c = Postgres.server().getPostgresDatabase().getConnection();
                Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + clone + " TEMPLATE " + template);
        }
        try (HikariDataSource coordinator = Postgres.newDatabase();
                HikariDataSource a = Postgres.dataSource(Postgres.jdbcUrl(template));
                HikariDataSource b = Postgres.dataSource(Postgres.jdbcUrl(clone));
                Backfill onA = new Backfill(a);
                Backfill onB = new Backfill(b)) {
            assertThat(new Db(b).one("SELECT last_value FROM sluice.batch_step_execution_seq"))
                    .as("the clone starts with the same ids")
                    .isEqualTo(new Db(a).one("SELECT last_value FROM sluice.batch_step_execution_seq"));
            FleetSpec fleet = SpecParser.parseFleet("name: clones\ntargets:\n"
                    + "  - { name: a, jdbc-url: \"" + Postgres.jdbcUrl(template) + "\" }\n"
                    + "  - { name: b, jdbc-url: \"" + Postgres.jdbcUrl(clone) + "\" }\n"
                    + "coordinator: { jdbc-url: \"" + coordinator.getJdbcUrl() + "\" }\n"
                    + "rollout: { canary: 0 }\nconcurrency: 2\n");
            // The rollout's record elsewhere: the two targets' repositories move in step.
            FleetResult r = new Fleet(fleet, coordinator, "sluice", Map.of("a", onA, "b", onB))
                    .run(SpecParser.parse(JOB), RunOptions.defaults(), t -> {});
            assertThat(r.outcome()).as(r.message() + " " + r.targets()).isEqualTo(FleetResult.Outcome.COMPLETED);
            for (HikariDataSource ds : new HikariDataSource[] {a, b}) {
                assertThat(new Db(ds).count("SELECT count(*) FROM t WHERE n <> 1"))
                        .isZero();
            }
            assertThat(new Db(b).one("SELECT last_value FROM sluice.batch_job_execution_seq"))
                    .as("the clone's ids were moved on")
                    .isNotEqualTo(new Db(a).one("SELECT last_value FROM sluice.batch_job_execution_seq"));
        }
    }
}
