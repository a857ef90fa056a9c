package dev.sluice.jobs.cli;

import java.sql.SQLException;

import dev.sluice.engine.spec.SpecException;
import dev.sluice.jobs.demo.DemoCommand;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code sluice} command line. */
@Command(name = "sluice", mixinStandardHelpOptions = true, version = "sluice 0.1.0",
        description = "Resumable, throttled, keyset-chunked backfills for live PostgreSQL tables.",
        subcommands = {RunCommand.class, ResumeCommand.class, StatusCommand.class, PlanCommand.class, ValidateCommand.class,
                ControlCommand.Pause.class, ControlCommand.Cancel.class, ControlCommand.Tune.class,
                dev.sluice.jobs.serve.ServeCommand.class, DemoCommand.class,
                dev.sluice.jobs.bench.BenchCommand.class, dev.sluice.jobs.bench.ContenderCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:done", "1:job failed (resumable)", "2:bad input or refused by preflight (nothing written)",
                "3:validation found mismatches", "4:not runnable now (another runner, paused or cancelled)",
                "5:stopped by signal or operator (resumable)"})
public class SluiceCommand implements Runnable {

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns its exit code (tests call this instead of main). */
    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new SluiceCommand());
        cli.setParameterExceptionHandler((e, a) -> {
            System.err.println("sluice: " + e.getMessage());
            System.err.println("usage: " + e.getCommandLine().getHelp().synopsis(0).trim());
            return ExitCode.BAD_INPUT;
        });
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof SpecException) {
                System.err.println("sluice: " + e.getMessage());
                return ExitCode.BAD_INPUT;
            }
            if (e instanceof DatabaseUnavailableException) {
                System.err.println("sluice: " + e.getMessage());
                return ExitCode.FAILED;
            }
            if (e instanceof SQLException sql) {
                System.err.println("sluice: database error: " + oneLine(sql) + " [SQLSTATE " + sql.getSQLState() + "]");
                return ExitCode.FAILED;
            }
            System.err.println("sluice: " + oneLine(e));
            e.printStackTrace();
            return ExitCode.FAILED;
        });
        return cli.execute(args);
    }

    private static String oneLine(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getMessage() == null) {
            root = root.getCause();
        }
        String m = root.getMessage() == null ? root.toString() : root.getMessage();
        return m.lines().findFirst().orElse(m).replaceFirst("^ERROR: ", "");
    }
}
