package dev.sluice.jobs.cli;

/** The exit codes of DESIGN.md; scripts and schedulers branch on them. */
public final class ExitCode {

    public static final int DONE = 0;
    public static final int FAILED = 1;
    public static final int BAD_INPUT = 2;
    public static final int MISMATCHES = 3;
    public static final int NOT_RUNNABLE = 4;
    public static final int STOPPED = 5;

    private ExitCode() {}
}
