package dev.sluice.engine.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

import dev.sluice.engine.JobStatus;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.DatabaseTest;

import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

/**
 * A job recorded by Sluice 0.1 (before the engine's public surface moved: recorded-0.1 holds its job repository and
 * table, dumped by 0.1's engine after it paused the job at chunk 10 of 30) resumes with this engine from its
 * checkpoint, applies no chunk twice, and rolls back through the journal entries both versions wrote.
 */
class RecordedJobTest extends DatabaseTest {

    private static final String DIR = "/recorded-0.1/";
    private static final List<String> REPOSITORY = List.of(
            "batch_job_instance",
            "batch_job_execution",
            "batch_job_execution_params",
            "batch_job_execution_context",
            "batch_step_execution",
            "batch_step_execution_context",
            "job_control",
            "job_lifecycle",
            "job_tuning",
            "sync_triggers",
            "undo_journal");

    @Test
    void aJobPausedByTheLastVersionResumesAndRollsBack() throws Exception {
        db.exec("CREATE TABLE visits (id int PRIMARY KEY, n int NOT NULL DEFAULT 0)");
        BatchSchema.ensure(ds, "sluice");
        try (Connection c = ds.getConnection()) {
            load(c, "public.visits");
            for (String table : REPOSITORY) {
                load(c, "sluice." + table);
            }
        }
        for (String line : text("sequences.csv").strip().split("\n", -1)) {
            String[] seq = line.split(",", -1);
            db.exec("SELECT setval('sluice." + seq[0] + "', " + Long.parseLong(seq[1]) + ")");
        }
        JobSpec spec = SpecParser.parse(text("recorded.yml"));

        JobStatus paused = backfill.status("recorded");
        assertThat(paused.state()).isEqualTo(JobStatus.State.PAUSED);
        assertThat(paused.rowsProcessed()).isEqualTo(1000);
        assertThat(paused.lastKey()).containsExactly("1000");
        assertThat(backfill.recordedSpec("recorded")).hasValue(spec);

        RunResult resumed = backfill.run(spec, RunOptions.defaults().resumeOnly(true));
        assertThat(resumed.outcome()).as(resumed.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(resumed.validation().clean()).as("every row counted once").isTrue();
        assertThat(db.count("SELECT count(*) FROM visits WHERE n <> 1")).isZero();
        assertThat(backfill.status("recorded").state()).isEqualTo(JobStatus.State.COMPLETED);

        RunResult rolledBack = backfill.rollback("recorded", RunOptions.defaults(), false);
        assertThat(rolledBack.outcome()).as(rolledBack.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.count("SELECT count(*) FROM visits WHERE n <> 0")).isZero();
    }

    private static void load(Connection c, String table) throws SQLException, IOException {
        try (Reader in = new InputStreamReader(stream(table + ".csv"), StandardCharsets.UTF_8)) {
            c.unwrap(PGConnection.class)
                    .getCopyAPI()
                    .copyIn("COPY " + table + " FROM STDIN WITH (FORMAT csv, HEADER true)", in);
        }
    }

    private static String text(String name) throws IOException {
        try (InputStream in = stream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static InputStream stream(String name) {
        InputStream in = RecordedJobTest.class.getResourceAsStream(DIR + name);
        if (in == null) {
            throw new IllegalStateException("no test resource " + DIR + name);
        }
        return in;
    }
}
