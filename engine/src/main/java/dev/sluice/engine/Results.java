package dev.sluice.engine;

import dev.sluice.engine.checkpoint.Checkpoint;
import dev.sluice.engine.checkpoint.Run;
import dev.sluice.engine.control.StopSignal;

/** What a run came to, in the words {@code run} prints: one line per outcome, with the way on. */
final class Results {

    private Results() {
    }

    /** A job that had ended before this run: complete (say so), or cancelled (not runnable). */
    static RunResult finished(Run last, long started) {
        Checkpoint cp = last.checkpoint();
        if (last.state() == dev.sluice.engine.checkpoint.RunState.CANCELLED) {
            return new RunResult(RunResult.Outcome.NOT_RUNNABLE, "job " + last.job() + " was cancelled; start it over"
                    + " with --again", cp.rows(), cp.written(), cp.chunks(), seconds(started));
        }
        return new RunResult(RunResult.Outcome.ALREADY_COMPLETE, "job " + last.job() + " is already complete ("
                + cp.rows() + " rows); run it again with --again", cp.rows(), cp.written(), cp.chunks(), seconds(started));
    }

    /** The run this call ran. */
    static RunResult of(Run run, long started) {
        Checkpoint cp = run.checkpoint();
        String name = run.job();
        RunResult.Outcome outcome;
        String message;
        switch (run.state()) {
            case COMPLETED -> {
                outcome = RunResult.Outcome.COMPLETED;
                message = "job " + name + " completed";
            }
            case STOPPED, CANCELLED -> {
                outcome = RunResult.Outcome.STOPPED;
                String reason = run.stopReason();
                if (StopSignal.CANCEL.equals(reason)) {
                    message = "job " + name + " cancelled after chunk " + cp.chunks() + where(run)
                            + "; it will not resume ('run --again' starts it over)";
                } else {
                    message = "job " + name + (StopSignal.isPause(reason) ? " paused" : " stopped") + " after chunk "
                            + cp.chunks() + where(run) + "; resume it with 'resume " + name + "'";
                }
            }
            default -> {
                outcome = RunResult.Outcome.FAILED;
                message = "job " + name + " failed: " + (run.failure() == null ? "it did not end cleanly" : run.failure())
                        + "; resume it with 'resume " + name + "'";
            }
        }
        return new RunResult(outcome, message, cp.rows(), cp.written(), cp.chunks(), seconds(started));
    }

    /** Where the job stands: its last key, or with partitions how many there are (each has its own). */
    private static String where(Run run) {
        return run.partitions().size() > 1 ? " (" + run.partitions().size() + " partitions; see status)"
                : " (last key " + run.checkpoint().lastKey() + ")";
    }

    static double seconds(long started) {
        return (System.nanoTime() - started) / 1e9;
    }
}
