package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The application's own BEFORE triggers beside {@code sync: trigger}, from the command line: one that Sluice cannot
 * keep right is refused by every command that reads the spec (exit 2, one line naming {@code sync} and the trigger,
 * nothing written); one it can is said by {@code run}, and the rows end in step.
 */
class ApplicationTriggersCliTest extends CliDatabaseTest {

    @BeforeEach
    void seed() throws Exception {
        db.exec(
                "CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, email_lower text, status text)",
                "INSERT INTO users (id, email) SELECT g, ' User' || g || '@X.org ' FROM generate_series(1, 20000) g",
                "CREATE FUNCTION tidy() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                        + " NEW.email := trim(NEW.email); RETURN NEW; END $$",
                "ANALYZE users");
        writeSpec("lower", """
                table: users
                key: [id]
                sync: trigger
                set: { email_lower: lower(email) }
                validate: [ { target: email_lower, source: lower(email) } ]
                """);
    }

    @Test
    void aTriggerThatFiresAfterSluicesIsRefusedByEveryCommand() {
        db.exec("CREATE TRIGGER \"~zz_late\" BEFORE INSERT OR UPDATE ON users FOR EACH ROW EXECUTE FUNCTION tidy()");
        for (String command : new String[] {"plan", "run", "resume", "validate"}) {
            Cli.Result r = Cli.run(args(command, "lower"));
            assertThat(r.exitCode()).as(command + ": " + r.out() + r.err()).isEqualTo(2);
            assertThat(r.err())
                    .as(command)
                    .startsWith("sluice: sync: trigger ~zz_late on users (tidy(), plpgsql) fires"
                            + " after Sluice's ~sluice_lower_ins")
                    .contains("ALTER TRIGGER \"~zz_late\" ON users RENAME TO")
                    .endsWith("or use sync: none\n");
        }
        assertThat(db.count("SELECT count(*) FROM users WHERE email_lower IS NOT NULL"))
                .isZero();
        assertThat(db.count("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'users'::regclass"))
                .isEqualTo(1);
    }

    @Test
    void aTriggerBeforeSluicesIsSaidByRunAndTheRowsEndInStep() {
        db.exec("CREATE TRIGGER tidy BEFORE INSERT OR UPDATE ON users FOR EACH ROW EXECUTE FUNCTION tidy()");
        Cli.Result r = Cli.run(args("run", "lower"));
        assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("validation clean");
        assertThat(r.err())
                .contains("job lower: trigger tidy on users (tidy(), plpgsql) fires before Sluice's"
                        + " ~sluice_lower_ins");
        db.exec(
                "UPDATE users SET status = 'x' WHERE id % 3 = 0",
                "INSERT INTO users (id, email) SELECT g, ' New' || g || '@X.org ' FROM generate_series(30001, 30100) g");
        assertThat(db.count("SELECT count(*) FROM users WHERE email_lower IS DISTINCT FROM lower(email)"))
                .isZero();
        assertThat(Cli.run(args("validate", "lower")).exitCode()).isZero();
    }
}
