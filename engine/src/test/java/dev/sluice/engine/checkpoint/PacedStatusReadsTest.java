package dev.sluice.engine.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.testing.DatabaseTest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Spring Batch's read of a job execution's status, paced before the steps' updates ({@link PacedStatusReads}), is
 * still made before the job execution's own update: a version another process gave the execution in the run's last
 * moment (as a {@code JobOperator.stop} from elsewhere would) is read, and the job's end is saved.
 */
class PacedStatusReadsTest extends DatabaseTest {

    @Test
    @Timeout(120)
    void theJobsEndReadsAVersionAnotherProcessGaveItJustBefore() throws Exception {
        db.exec(
                "CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, lower_name text)",
                "INSERT INTO items SELECT g, 'Item ' || g, NULL FROM generate_series(1, 3000) g",
                "ANALYZE items");
        RunResult run =
                backfill.run(SpecParser.parse("""
                        name: bumped
                        table: items
                        key: [id]
                        set: { lower_name: lower(name) }
                        undo: false
                        chunk: { rows: 100, min-rows: 100, max-rows: 100 }
                        """), RunOptions.defaults().withObserver(report -> {
                    if (report.totalRows() == 3000) {
                        // Another process's update of the running execution, a moment before the job ends.
                        db.exec("UPDATE sluice.batch_job_execution SET version = version + 1 WHERE status = 'STARTED'");
                    }
                }));
        assertThat(run.outcome()).as(run.message()).isEqualTo(RunResult.Outcome.COMPLETED);
        assertThat(db.column("SELECT status || ' ' || (end_time IS NOT NULL) FROM sluice.batch_job_execution"))
                .containsExactly("COMPLETED true");
        assertThat(db.count("SELECT count(*) FROM items WHERE lower_name = lower(name)"))
                .isEqualTo(3000);
    }
}
