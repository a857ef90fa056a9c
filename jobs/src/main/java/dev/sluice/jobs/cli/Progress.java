package dev.sluice.jobs.cli;

import java.io.PrintStream;
import java.util.Locale;

import dev.sluice.engine.chunk.ChunkObserver;
import dev.sluice.engine.chunk.ChunkReport;

/**
 * Progress of a run on the console: a redrawn bar (rows, %, rows/s, ETA) on a terminal, a plain line every few
 * seconds otherwise (logs, CI). Drawn from chunk reports, at most a few times a second, so it costs the chunk
 * loop nothing measurable.
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

    Progress(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    public static Progress console() {
        return new Progress(System.out, System.console() != null);
    }

    @Override
    public void started(Phase phase, long estimatedRows, long rowsDone) {
        if (last != null) {
            draw(System.nanoTime()); // the phase that ends (the backfill, before its validation) shows where it ended
            if (terminal) {
                out.println();
            }
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
            out.printf(Locale.ROOT, "resuming %s from the checkpoint: %,d rows already %s%n",
                    phase == Phase.VALIDATION ? "the validation" : "the backfill", rowsDone,
                    phase == Phase.VALIDATION ? "checked" : "done");
        }
        reconnected = false;
    }

    /** The runner logs the loss in one line (a warning, also in serve); the bar starts a new line after it. */
    @Override
    public void reconnecting(String why, int attempt, java.time.Duration limit) {
        if (last != null && terminal) {
            out.println();
        }
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
        if (terminal && last != null) {
            out.println();
        }
    }

    private void draw(long now) {
        long rows = last.totalRows();
        double seconds = (now - startedAt) / 1e9;
        double rate = seconds > 0 ? (rows - rowsAtStart) / seconds : 0;
        double fraction = estimated > 0 ? Math.min(1, (double) rows / estimated) : 0;
        String eta = rate > 0 && estimated > rows ? duration((estimated - rows) / rate) : "-";
        boolean validating = phase == Phase.VALIDATION;
        if (phase == Phase.ROLLBACK) {
            // The journal's entries, newest first: the table's estimate says nothing of how many are left.
            String text = String.format(Locale.ROOT, "rolling back: %,d journaled rows, %,d restored, %,.0f rows/s,"
                    + " %d chunks", rows, last.totalRows() == 0 ? 0 : written, rate, last.chunks());
            out.print(terminal ? "\r" + text + "\u001b[K" : text + "\n");
            out.flush();
            return;
        }
        String text = String.format(Locale.ROOT, "%s%,d / ~%,d rows%s  %5.1f%%  %,.0f rows/s  ETA %s  chunk %d (%s]",
                validating ? "validating: " : "", rows, estimated, validating ? " checked" : "", fraction * 100, rate, eta,
                last.chunks(), last.range().hi());
        if (terminal) {
            int filled = (int) Math.round(fraction * BAR_WIDTH);
            out.print("\r[" + "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled) + "] " + text + "\u001b[K");
            out.flush();
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
