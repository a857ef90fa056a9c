package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import dev.sluice.engine.testing.TransformerJar;
import dev.sluice.engine.testing.TransformerJar.Flaw;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A team's transformer jar that cannot work in this process is bad input, like a spec that cannot run: broken (a
 * static initializer that throws, a class it needs left out of the class path, a catalogue ServiceLoader cannot make)
 * or not there (a SLUICE_LIB entry that is missing or no jar). Exit 2, one line naming the jar and the class (or the
 * entry), no stack trace, nothing written. Each case runs in a JVM of its own, with the jar on its class path or
 * SLUICE_LIB in its environment, as an operator's would.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class TeamJarTest extends CliDatabaseTest {

    private static final String CATALOGUE = "com.example.team.TeamTransformers";

    @BeforeEach
    void authors() throws Exception {
        db.exec(
                "CREATE TABLE authors (id int PRIMARY KEY, full_name text, initials text)",
                "INSERT INTO authors VALUES (1, 'Ada King Lovelace', NULL), (2, 'alan turing', NULL)");
        writeSpec("author-initials", """
                table: authors
                key: [id]
                transformer: { name: initials, columns: { name: full_name }, with: { separator: "." } }
                """);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            THROWING_INITIALIZER | failed looking up 'initials': the static initializer of com.example.team.TeamTransformers$Initials threw NumberFormatException: For input string: "dot"
            THROWING_CATALOGUE   | cannot be loaded: the static initializer of com.example.team.TeamTransformers threw IllegalStateException: no licence key for the team's catalogue
            MISSING_CLASS        | failed looking up 'initials': a class it needs is missing from the class path: com.example.team.Abbreviations
            """)
    void aBrokenTeamJarIsRefusedInOneLineNamingTheJarAndTheClass(Flaw flaw, String why) throws Exception {
        Path jar = TransformerJar.build(dir.resolve("team-" + flaw), flaw);
        Ran run = run(Map.of(), List.of(jar), "run", "author-initials");
        assertThat(run.exitCode()).as(run.output()).isEqualTo(2);
        assertThat(run.lines())
                .as(run.output())
                .singleElement()
                .asString()
                .startsWith("sluice: transformer.name: 'initials' cannot be looked up: the transformer catalogue "
                        + CATALOGUE + " (in " + jar + ") ")
                .contains(why);
        assertThat(db.exists("sluice.batch_job_instance")).as("no job record").isFalse();
        assertThat(db.count("SELECT count(*) FROM authors WHERE initials IS NOT NULL"))
                .isZero();
        // plan and validate read the spec too, and say the same.
        Ran plan = run(Map.of(), List.of(jar), "plan", "author-initials");
        assertThat(plan.exitCode()).as(plan.output()).isEqualTo(2);
        assertThat(plan.lines())
                .singleElement()
                .asString()
                .contains(jar.toString())
                .contains(why);
    }

    @Test
    void aJarBuiltAgainstTheOldInterfaceIsNamedByItsOwnClassWhenItFails() throws Exception {
        Path jar = TransformerJar.build(
                dir.resolve("team-old"), Flaw.MISSING_CLASS_WHILE_RUNNING, TransformerJar.Api.BEFORE_0_2);
        Ran run = run(Map.of(), List.of(jar), "run", "author-initials");
        assertThat(run.exitCode()).as(run.output()).isEqualTo(2);
        assertThat(run.lines())
                .singleElement()
                .asString()
                .startsWith("sluice: transformer: 'initials' (" + CATALOGUE + "$Initials in " + jar + ") failed at"
                        + " preflight: a class it needs is missing from the class path");
    }

    @Test
    void aClassMissingFromTheClassPathThatOnlyRowsNeedIsFoundBeforeTheFirstChunk() throws Exception {
        Path jar = TransformerJar.build(dir.resolve("team-late"), Flaw.MISSING_CLASS_WHILE_RUNNING);
        Ran run = run(Map.of(), List.of(jar), "run", "author-initials");
        assertThat(run.exitCode()).as(run.output()).isEqualTo(2);
        assertThat(run.lines())
                .as(run.output())
                .singleElement()
                .asString()
                .isEqualTo("sluice: transformer: 'initials' (" + CATALOGUE + "$Initials in " + jar + ") failed at"
                        + " preflight: a class it needs is missing from the class path: com.example.team.Abbreviations"
                        + " (put the jar that holds it beside the team's, on SLUICE_LIB)");
        assertThat(db.exists("sluice.batch_job_instance")).as("no job record").isFalse();
    }

    @Test
    void aSluiceLibEntryThatIsNoReadableJarIsRefusedNamingIt() throws Exception {
        Path good = TransformerJar.build(dir.resolve("team"), Flaw.NONE);
        Path text = Files.writeString(dir.resolve("notes.jar"), "not a zip");
        Path folder = Files.createDirectories(dir.resolve("libs"));
        Path broken = Files.write(folder.resolve("broken.jar"), new byte[] {'P', 'K', 3, 4, 0, 0});
        Map<String, String> refused = new LinkedHashMap<>();
        refused.put(dir.resolve("no-such.jar").toString(), dir.resolve("no-such.jar") + " does not exist");
        refused.put(good + "," + dir.resolve("gone"), dir.resolve("gone") + " does not exist");
        refused.put(
                good + ":" + text,
                good + ":" + text + " does not exist (a jar, or a directory of jars; separate"
                        + " entries with commas)");
        refused.put(text.toString(), text + " is not a jar");
        refused.put(folder.toString(), broken + " (in " + folder + ") is not a jar");
        if (!"root".equals(System.getProperty("user.name"))) { // root reads every file
            Path locked = Files.copy(good, dir.resolve("locked.jar"));
            Files.setPosixFilePermissions(locked, Set.of());
            refused.put(locked.toString(), locked + " cannot be read by this user");
        }
        for (Map.Entry<String, String> c : refused.entrySet()) {
            Ran run = run(Map.of("SLUICE_LIB", c.getKey()), List.of(), "run", "author-initials");
            assertThat(run.exitCode()).as(c.getKey() + ": " + run.output()).isEqualTo(2);
            assertThat(run.lines())
                    .as(c.getKey())
                    .singleElement()
                    .asString()
                    .startsWith("sluice: SLUICE_LIB: " + c.getValue());
        }
        assertThat(db.exists("sluice.batch_job_instance")).as("no job record").isFalse();
        // A good entry passes the check (the jar is not on this JVM's class path: the name is still unknown, and
        // the message says where transformers are looked for and how to add a jar).
        Ran unknown = run(Map.of("SLUICE_LIB", good.toString()), List.of(), "run", "author-initials");
        assertThat(unknown.exitCode()).as(unknown.output()).isEqualTo(2);
        assertThat(unknown.lines())
                .singleElement()
                .asString()
                .startsWith("sluice: transformer.name: no transformer named 'initials'; looked for in: built in: ")
                .contains("SLUICE_LIB=" + good)
                .contains("docs/transformers.md");
        // Help needs no jars.
        Ran help = run(Map.of("SLUICE_LIB", text.toString()), List.of(), "run", "--help");
        assertThat(help.exitCode()).as(help.output()).isZero();
    }

    private record Ran(int exitCode, String output) {
        /** What the run printed but the line on standard output that says which job runs where. */
        List<String> lines() {
            return output.lines()
                    .filter(l -> !l.isBlank() && !l.startsWith("sluice: running "))
                    .toList();
        }
    }

    private Ran run(Map<String, String> env, List<Path> jars, String... command) throws Exception {
        Path log = Files.createTempFile(dir, "sluice", ".log");
        String[] args = command[command.length - 1].equals("--help") ? command : args(command);
        Process p = Cli.spawn(log, env, jars, args);
        assertThat(p.waitFor(120, TimeUnit.SECONDS))
                .as(String.join(" ", command))
                .isTrue();
        return new Ran(p.exitValue(), Files.readString(log));
    }
}
