package dev.sluice.jobs.cli;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;

import dev.sluice.engine.ChunkObserver;
import dev.sluice.engine.ChunkReport;

/**
 * Progress of a run on the console: a redrawn bar (rows, %, rows/s, ETA) on a terminal, a plain line every few
 * seconds otherwise (logs, CI). Drawn from chunk reports, at most a few times a second, so it costs the chunk
 * loop nothing measurable. Its headline (what runs, on which database) is printed when the work really starts: a
 * run that is refused (paused, held by another runner, rolled back) says only why.
 */
public final class Progress implements ChunkObserver {

    // Redraw often enough to look alive, rarely enough not to flood a slow terminal.
    private static final long BAR_EVERY_NANOS = 200_000_000L;
    // A line every five seconds keeps logs readable over hour-long runs.
    private static final long LINE_EVERY_NANOS = 5_000_000_000L;
    private static final int BAR_WIDTH = 30;

    private final PrintStream out;
    private final boolean terminal;
    private long estimated;
    private long rowsAtStart;
    private long startedAt;
    private long drawnAt;
    private ChunkReport last;
    private boolean reconnected;
    private Phase phase = Phase.BACKFILL;
    private long written;
    private String headline;

    Progress(PrintStream out, boolean terminal, String headline) {
        this.out = out;
        this.terminal = terminal;
        this.headline = headline;
    }

    public static Progress console() {
        return console(null);
    }

    /** @param headline printed once, when the work starts (null for none) */
    public static Progress console(String headline) {
        return new Progress(System.out, ConsoleLine.terminal(), headline);
    }

    @Override
    public void started(Phase phase, long estimatedRows, long rowsDone) {
        if (headline != null) {
            out.println(headline);
            headline = null;
        }
        if (last != null) {
            draw(System.nanoTime()); // the phase that ends (the backfill, before its validation) shows where it ended
            ConsoleLine.end();
        }
        if (phase == Phase.VALIDATION && this.phase != Phase.VALIDATION) {
            out.println("validating: every row against the rules, read-only");
        }
        this.phase = phase;
        last = null;
        written = 0;
        this.estimated = estimatedRows;
        this.rowsAtStart = rowsDone;
        this.startedAt = System.nanoTime();
        this.drawnAt = startedAt;
        if (rowsDone > 0 && !reconnected) {
            switch (phase) {
                case VALIDATION ->
                    out.printf(
                            Locale.ROOT,
                            "resuming the validation from its checkpoint: %,d rows" + " already checked%n",
                            rowsDone);
                case ROLLBACK ->
                    out.printf(
                            Locale.ROOT,
                            "continuing the rollback from its checkpoint: %,d of %,d"
                                    + " journaled rows already gone through%n",
                            rowsDone,
                            estimatedRows);
                default ->
                    out.printf(
                            Locale.ROOT,
                            "resuming the backfill from the checkpoint: %,d rows already done%n",
                            rowsDone);
            }
        }
        reconnected = false;
    }

    /** The runner logs the loss in one line (a warning, also in serve); the bar starts a new line after it. */
    @Override
    public void reconnecting(String why, int attempt, Duration limit) {
        ConsoleLine.end();
        reconnected = true;
    }

    @Override
    public void chunkCommitted(ChunkReport report) {
        last = report;
        written += report.written();
        long now = System.nanoTime();
        if (now - drawnAt >= (terminal ? BAR_EVERY_NANOS : LINE_EVERY_NANOS)) {
            drawnAt = now;
            draw(now);
        }
    }

    /** Draws the final state and ends the bar's line. */
    public void finish() {
        if (last != null) {
            draw(System.nanoTime());
        }
        ConsoleLine.end();
    }

    private void draw(long now) {
        long rows = last.totalRows();
        double seconds = (now - startedAt) / 1e9;
        double rate = seconds > 0 ? (rows - rowsAtStart) / seconds : 0;
        double fraction = estimated > 0 ? Math.min(1, (double) rows / estimated) : 0;
        String eta = rate > 0 && estimated > rows ? duration((estimated - rows) / rate) : "-";
        boolean validating = phase == Phase.VALIDATION;
        String text = phase == Phase.ROLLBACK
                // The journal's entries, newest first, against the journal's rows when the rollback started.
                ? String.format(
                        Locale.ROOT,
                        "rolling back: %,d of %,d journaled rows  %5.1f%%  %,d restored  %,.0f rows/s"
                                + "  ETA %s  chunk %d",
                        rows,
                        estimated,
                        fraction * 100,
                        written,
                        rate,
                        eta,
                        last.chunks())
                : String.format(
                        Locale.ROOT,
                        "%s%,d / ~%,d rows%s  %5.1f%%  %,.0f rows/s  ETA %s  chunk %d%s",
                        validating ? "validating: " : "",
                        rows,
                        estimated,
                        validating ? " checked" : "",
                        fraction * 100,
                        rate,
                        eta,
                        last.chunks(),
                        // a remote run's reports sum many partitions' chunks, which end at many keys
                        last.range().hi() == null ? "" : " (" + last.range().hi() + "]");
        if (terminal) {
            int filled = (int) Math.round(fraction * BAR_WIDTH);
            ConsoleLine.draw(out, "[" + "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled) + "] " + text);
        } else {
            out.println(text);
        }
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return s / 60 + "m" + String.format(Locale.ROOT, "%02d", s % 60) + "s";
        }
        return s / 3600 + "h" + String.format(Locale.ROOT, "%02d", s % 3600 / 60) + "m";
    }
}
