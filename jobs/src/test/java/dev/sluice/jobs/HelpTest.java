package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import dev.sluice.jobs.cli.SluiceCommand;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/** Every command and subcommand answers --help and 'help CMD' (exit 0), and every option says what it does. */
class HelpTest {

    static Stream<String> commands() {
        return new CommandLine(new SluiceCommand())
                .getSubcommands().entrySet().stream()
                        .filter(e ->
                                !e.getValue().getCommandSpec().usageMessage().hidden()
                                        && !e.getKey().equals("help"))
                        .map(Map.Entry::getKey);
    }

    @ParameterizedTest
    @MethodSource("commands")
    void answersHelpWithEveryOptionExplained(String command) {
        for (List<String> args :
                List.of(List.of(command, "--help"), List.of("help", command), List.of(command, "-h"))) {
            Cli.Result r = Cli.run(args.toArray(String[]::new));
            assertThat(r.exitCode()).as("%s: %s", args, r.err()).isZero();
            assertThat(r.out()).as(String.join(" ", args)).startsWith("Usage: sluice " + command);
            assertThat(r.err()).isEmpty();
        }
        CommandSpec spec = new CommandLine(new SluiceCommand())
                .getSubcommands()
                .get(command)
                .getCommandSpec();
        assertThat(spec.usageMessage().description())
                .as(command + " describes itself")
                .isNotEmpty();
        for (OptionSpec o : spec.options()) {
            assertThat(String.join("", o.description()))
                    .as(command + " " + o.longestName())
                    .isNotBlank();
        }
        for (PositionalParamSpec p : spec.positionalParameters()) {
            assertThat(String.join("", p.description()))
                    .as(command + " " + p.paramLabel())
                    .isNotBlank();
        }
    }

    @Test
    void theTopCommandListsItsCommandsAndExitCodes() {
        Cli.Result r = Cli.run("--help");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out())
                .contains(
                        "run",
                        "resume",
                        "status",
                        "pause",
                        "cancel",
                        "tune",
                        "validate",
                        "plan",
                        "serve",
                        "demo",
                        "bench",
                        "Exit codes:");
        assertThat(Cli.run("help").exitCode()).isZero();
    }
}
