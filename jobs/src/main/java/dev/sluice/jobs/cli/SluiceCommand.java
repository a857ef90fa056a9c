package dev.sluice.jobs.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.sql.SQLException;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.concurrent.Callable;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.spec.Secrets;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spi.TeamJars;
import dev.sluice.jobs.bench.BenchCommand;
import dev.sluice.jobs.bench.ContenderCommand;
import dev.sluice.jobs.demo.DemoCommand;
import dev.sluice.jobs.serve.ServeCommand;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The {@code sluice} command line. */
@Command(
        name = "sluice",
        mixinStandardHelpOptions = true,
        version = "sluice 0.1.0",
        description = "Resumable, throttled, keyset-chunked backfills for live PostgreSQL tables.",
        subcommands = {
            RunCommand.class,
            ResumeCommand.class,
            StatusCommand.class,
            PlanCommand.class,
            ValidateCommand.class,
            ControlCommand.Pause.class,
            ControlCommand.Cancel.class,
            ControlCommand.Tune.class,
            FinishCommand.class,
            RequireCommand.class,
            RollbackCommand.class,
            ListCommand.class,
            HistoryCommand.class,
            ForgetCommand.class,
            WorkerCommand.class,
            ServeCommand.class,
            DemoCommand.class,
            BenchCommand.class,
            ContenderCommand.class,
            CommandLine.HelpCommand.class
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:done",
            "1:job failed (resumable), or the database cannot be reached",
            "2:bad input or refused by preflight (nothing written)",
            "3:validation found mismatches, or rollback left rows changed by others",
            "4:not runnable now (another runner holds it, it is paused or cancelled)",
            "5:stopped by a signal or an operator (resumable)"
        })
public class SluiceCommand implements Callable<Integer> {

    private static final String VERBOSE = "--verbose";

    @Option(
            names = VERBOSE,
            scope = ScopeType.INHERIT,
            description = "on errors, print the stack trace too; log what the runner does (INFO)")
    boolean verbose;

    /** {@code sluice} without a command: bad input, with the usage that lists the commands. */
    @Override
    public Integer call() {
        System.err.println("sluice: no command given");
        new CommandLine(this).usage(System.err);
        return ExitCode.BAD_INPUT;
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /**
     * Runs the command line and returns its exit code (tests call this instead of main). Everything printed on the
     * way, by anyone, passes through {@link RedactedStream}: no password reaches the terminal.
     */
    private static final java.time.Duration NOTIFY_FLUSH = java.time.Duration.ofSeconds(10);

    public static int execute(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        System.setOut(RedactedStream.over(out));
        System.setErr(RedactedStream.over(err));
        try {
            boolean verbose = List.of(args).contains(VERBOSE);
            logging(verbose);
            try {
                return commandLine(verbose).execute(args);
            } catch (LinkageError | ServiceConfigurationError e) {
                // A team's jar broken where no check saw it (picocli passes Errors on): one line, never a trace.
                System.err.println("sluice: " + oneLine(TeamJars.describe(e)));
                if (verbose) {
                    printTrace(e);
                }
                return ExitCode.BAD_INPUT;
            }
        } finally {
            // The command's last events (a completed run's) leave before the process does; a receiver that is down
            // is tried once, not waited for through its retries.
            Backfill.awaitNotifications(NOTIFY_FLUSH);
            System.out.flush();
            System.err.flush();
            System.setOut(out);
            System.setErr(err);
        }
    }

    private static CommandLine commandLine(boolean verbose) {
        CommandLine cli = new CommandLine(new SluiceCommand());
        cli.setParameterExceptionHandler((e, a) -> {
            String command = e.getCommandLine().getCommandName();
            System.err.println("sluice: " + oneLine(e.getMessage()) + " (see 'sluice "
                    + ("sluice".equals(command) ? "" : command + " ") + "--help')");
            return ExitCode.BAD_INPUT;
        });
        // The environment's jars are checked once the command line is understood, before any command runs (help
        // and --version need none).
        cli.setExecutionStrategy(parseResult -> {
            if (!helpRequested(parseResult)) {
                try {
                    SluiceLib.check(System.getenv(SluiceLib.VARIABLE));
                } catch (SpecException e) {
                    throw new CommandLine.ExecutionException(
                            parseResult.commandSpec().commandLine(), e.getMessage(), e);
                }
            }
            return new CommandLine.RunLast().execute(parseResult);
        });
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            System.err.println("sluice: " + describe(e));
            if (verbose) {
                printTrace(e);
            }
            return exitCode(e);
        });
        return cli;
    }

    private static void printTrace(Throwable e) {
        StringWriter trace = new StringWriter();
        e.printStackTrace(new PrintWriter(trace));
        System.err.print(Secrets.redact(trace.toString()));
    }

    private static boolean helpRequested(CommandLine.ParseResult parseResult) {
        for (CommandLine.ParseResult r = parseResult; r != null; r = r.subcommand()) {
            if (r.isUsageHelpRequested()
                    || r.isVersionHelpRequested()
                    || r.commandSpec().userObject() instanceof CommandLine.HelpCommand) {
                return true;
            }
        }
        return false;
    }

    static int exitCode(Throwable e) {
        if (e instanceof SpecException) {
            return ExitCode.BAD_INPUT;
        }
        return ExitCode.FAILED;
    }

    /** One line for an operator: the message of the exception that says what happened, without decorations. */
    static String describe(Throwable e) {
        if (e instanceof SpecException || e instanceof DatabaseUnavailableException) {
            return oneLine(e.getMessage());
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql) {
                return "database error: " + oneLine(sql.getMessage()).replaceFirst("^ERROR: ", "")
                        + (sql.getSQLState() == null ? "" : " [SQLSTATE " + sql.getSQLState() + "]");
            }
        }
        Throwable root = e;
        while (root.getCause() != null && root.getMessage() == null) {
            root = root.getCause();
        }
        return oneLine(root.getMessage() == null ? root.toString() : root.getMessage());
    }

    private static String oneLine(String text) {
        String line = text == null ? "" : text.lines().findFirst().orElse("");
        return Secrets.redact(line);
    }

    /** Sends java.util.logging (the JDBC driver's) through the operator's log, and turns it up for --verbose. */
    private static void logging(boolean verbose) {
        if (!SLF4JBridgeHandler.isInstalled()) {
            SLF4JBridgeHandler.removeHandlersForRootLogger();
            SLF4JBridgeHandler.install();
        }
        OperatorLogLayout.stackTraces(verbose);
        if (verbose && LoggerFactory.getILoggerFactory() instanceof LoggerContext logback) {
            logback.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(Level.INFO);
            logback.getLogger("org.springframework.batch").setLevel(Level.ERROR);
            logback.getLogger("org.springframework.transaction").setLevel(Level.ERROR);
        }
    }
}
