package dev.sluice.jobs.cli;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.NextStep;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.ValidationResult;

/**
 * The engine's results as the command line says them: what happened, then the way on as a command to type
 * ({@code job orders stopped after chunk 12; 'resume orders' continues it}).
 */
final class Said {

    private Said() {}

    /** A moment as the audit trail's readers show it: {@code 2026-12-06 19:31:07}, in UTC. */
    static String when(java.time.Instant at) {
        return java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss")
                .withZone(java.time.ZoneOffset.UTC)
                .format(at);
    }

    static String run(RunResult r) {
        return then(r.message(), r.next());
    }

    static String validation(ValidationResult r) {
        return then(r.message(), r.next());
    }

    /** A control request's reply: the way on from the state the job reached, in brackets. */
    static String control(Backfill.ControlResult r) {
        if (r.next() == null) {
            return r.message();
        }
        // A message that ends in brackets already (a failure's reason) takes the step after a semicolon.
        return r.message().endsWith(")")
                ? then(r.message(), r.next())
                : r.message() + " (" + r.next().clause() + ")";
    }

    static String then(String message, NextStep next) {
        return next == null ? message : message + "; " + next.clause();
    }
}
