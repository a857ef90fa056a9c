package dev.sluice.jobs.cli;

import java.io.Console;
import java.io.PrintStream;

/**
 * The console's one unfinished line: a progress bar that a terminal redraws in place. A log line, written to the same
 * terminal on standard error, would land in the middle of it; so the bar is wiped first, the log line written on a
 * line of its own, and the bar drawn again below it. Where output is not a terminal (a file, a pipe, CI) progress is
 * printed as whole lines, no line stays open, and no control codes are written at all.
 */
final class ConsoleLine {

    // Erase to the end of the line: what is left of a longer bar drawn before.
    private static final String ERASE = "\u001b[K";

    private static PrintStream open;
    private static String drawn;

    private ConsoleLine() {}

    /**
     * Whether standard output is a terminal that control codes may be sent to: Java's console (on Java 22 and later,
     * one that says it is a terminal) and a {@code TERM} other than {@code dumb}.
     */
    static boolean terminal() {
        Console console = System.console();
        if (console == null || "dumb".equals(System.getenv("TERM"))) {
            return false;
        }
        try {
            return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
        } catch (NoSuchMethodException e) {
            return true; // before Java 22 there is a console only when standard input and output are terminals
        } catch (ReflectiveOperationException e) {
            return false;
        }
    }

    /** Draws {@code text} over the open line of {@code out} (a terminal), leaving it open. */
    static synchronized void draw(PrintStream out, String text) {
        out.print("\r" + text + ERASE);
        out.flush();
        open = out;
        drawn = text;
    }

    /** Ends the open line, if there is one, where the bar stands. */
    static synchronized void end() {
        if (open != null) {
            open.println();
            open.flush();
        }
        open = null;
        drawn = null;
    }

    /** Writes a whole line of another stream: the open bar is wiped first and drawn again after it. */
    static synchronized void around(Runnable write) {
        PrintStream bar = open;
        if (bar == null) {
            write.run();
            return;
        }
        bar.print("\r" + ERASE);
        bar.flush();
        try {
            write.run();
        } finally {
            bar.print(drawn + ERASE);
            bar.flush();
        }
    }
}
