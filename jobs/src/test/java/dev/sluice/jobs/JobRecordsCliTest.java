package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code list}, {@code history} and {@code forget} from the command line: who ran what is the operating-system user at
 * this host, through the CLI; forget refuses a job with something left to undo (exit 4) and an unknown name (exit 2),
 * and the trail outlives it.
 */
class JobRecordsCliTest extends CliDatabaseTest {

    @BeforeEach
    void table() throws Exception {
        db.exec(
                "CREATE TABLE ledger (id int PRIMARY KEY, doubled int)",
                "INSERT INTO ledger SELECT g, NULL FROM generate_series(1, 2000) g");
        writeSpec("kept", """
                table: ledger
                key: [id]
                set: { doubled: id * 2 }
                validate: [ { target: doubled, source: id * 2 } ]
                """);
    }

    @Test
    @Timeout(120)
    void historyListsWhoRanWhatAndForgetKeepsTheTrail() throws Exception {
        String me = System.getProperty("user.name") + "@"
                + InetAddress.getLocalHost().getHostName() + " (cli)";
        assertThat(Cli.run(args("run", "kept")).exitCode()).isZero();
        Cli.Result tuned = Cli.run(args("tune", "kept", "--rows-per-second", "5000"));
        assertThat(tuned.exitCode()).as(tuned.err()).isZero();

        Cli.Result history = Cli.run(args("history", "kept"));
        assertThat(history.exitCode()).as(history.err()).isZero();
        assertThat(history.out())
                .contains("COMMAND")
                .contains("run ")
                .contains("tune ")
                .contains(me)
                .contains("completed")
                .contains("rowsPerSecond=5000");
        Cli.Result json = Cli.run(args("history", "kept", "--json"));
        assertThat(json.out().lines()).hasSize(2);
        assertThat(json.out())
                .contains("\"command\":\"run\"")
                .contains("\"via\":\"cli\"")
                .contains("\"osUser\":\"" + System.getProperty("user.name") + "\"")
                .contains("\"databaseUser\":\"postgres\"")
                .containsPattern("\"specDigest\":\"[0-9a-f]{64}\"");

        Cli.Result list = Cli.run(args("list"));
        assertThat(list.out())
                .contains("kept")
                .contains("COMPLETED")
                .contains("ledger")
                .contains(me);
        assertThat(Cli.run(args("list", "--json")).out())
                .contains("\"job\":\"kept\",\"table\":\"ledger\",\"state\":\"COMPLETED\"")
                .contains("\"lastRunBy\":\"" + me + "\"");

        // Completed, its journal there: not forgotten, nothing deleted.
        Cli.Result refused = Cli.run(args("forget", "kept"));
        assertThat(refused.exitCode()).isEqualTo(4);
        assertThat(refused.err()).contains("job kept is not forgotten: it is COMPLETED");
        assertThat(db.count("SELECT count(*) FROM sluice.batch_job_instance WHERE job_name = 'kept'"))
                .isEqualTo(1);

        assertThat(Cli.run(args("rollback", "kept")).exitCode()).isZero();
        Cli.Result forgotten = Cli.run(args("forget", "kept"));
        assertThat(forgotten.exitCode()).as(forgotten.err()).isZero();
        assertThat(forgotten.out()).contains("job kept is forgotten");
        assertThat(db.count("SELECT count(*) FROM sluice.batch_job_instance WHERE job_name LIKE 'kept%'"))
                .isZero();
        assertThat(Cli.run(args("list")).out()).doesNotContain("kept");
        assertThat(Cli.run(args("history", "kept")).out())
                .contains("rollback")
                .contains("forget")
                .contains("refused")
                .contains("done");
        // Its name is free: it runs anew.
        assertThat(Cli.run(args("run", "kept")).exitCode()).isZero();
    }

    @Test
    void anUnknownJobIsBadInputForHistoryAndForget() {
        Cli.Result history = Cli.run(args("history", "nope"));
        assertThat(history.exitCode()).isEqualTo(2);
        assertThat(history.err().strip())
                .isEqualTo("sluice: JOB: no command is recorded for job nope in this database");
        Cli.Result forget = Cli.run(args("forget", "nope"));
        assertThat(forget.exitCode()).isEqualTo(2);
        assertThat(forget.err().strip()).isEqualTo("sluice: JOB: no job named nope is recorded in this database");
        assertThat(db.exists("sluice.audit")).as("nothing written").isFalse();
    }
}
