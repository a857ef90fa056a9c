package dev.sluice.engine.checkpoint;

import dev.sluice.engine.chunk.ChunkLedger;
import dev.sluice.engine.chunk.ChunkWriter;
import dev.sluice.engine.preflight.Prepared;
import dev.sluice.engine.sync.KeyLogDrain;
import dev.sluice.engine.sync.SyncDefinition;
import dev.sluice.engine.validate.RangeCheck;
import dev.sluice.engine.validate.ValidationLedger;

/**
 * What a job's chunks do: the backfill writes; a validation only reads, and keeps its findings in its ledger; a
 * repair writes where validation finds mismatches. Each is a Spring Batch job of its own, named after the spec.
 *
 * @param jobName       the spec's name for the backfill, with {@code .validate} or {@code .repair} for the others
 * @param rowsPerSecond the rate limit, in rows written (a validation: rows checked) per second, 0 for none
 */
public record Work(Prepared prepared, Kind kind, String jobName, ChunkWriter writer, ChunkLedger ledger, long rowsPerSecond) {

    /** The three kinds of work on a spec. */
    public enum Kind {
        BACKFILL("backfill", ""), VALIDATION("validate", ".validate"), REPAIR("backfill", ".repair");

        final String step;
        private final String suffix;

        Kind(String step, String suffix) {
            this.step = step;
            this.suffix = suffix;
        }

        /** The Spring Batch job that does this kind of work on job {@code name}. */
        public String jobOf(String name) {
            return name + suffix;
        }

        /** Whether a Spring Batch job of that name is a backfill (a spec's own name never holds a dot). */
        public static boolean isBackfill(String jobName) {
            return !jobName.endsWith(VALIDATION.suffix) && !jobName.endsWith(REPAIR.suffix);
        }
    }

    /** The backfill of a prepared spec. */
    public static Work backfill(Prepared prepared) {
        return new Work(prepared, Kind.BACKFILL, prepared.spec().name(), prepared.writer(), keyLog(prepared),
                prepared.spec().throttle().rowsPerSecond());
    }

    /** With a sync trigger that logs keys, every chunk re-applies the logged keys behind it (see KeyLogDrain). */
    private static ChunkLedger keyLog(Prepared prepared) {
        SyncDefinition sync = prepared.sync();
        return sync == null || sync.kind() != SyncDefinition.Kind.LOG ? ChunkLedger.NONE
                : new KeyLogDrain(sync.names(), prepared.plan(), prepared.source());
    }

    /** The validation of a prepared spec by {@code check}, at {@code rowsPerSecond} rows checked. */
    public static Work validation(Prepared prepared, RangeCheck check, long rowsPerSecond) {
        return new Work(prepared, Kind.VALIDATION, Kind.VALIDATION.jobOf(prepared.spec().name()), ChunkWriter.READ_ONLY,
                new ValidationLedger(check), rowsPerSecond);
    }

    /** The repair of job {@code name}: a spec prepared to write only the mismatching rows. */
    public static Work repair(String name, Prepared repairing) {
        return new Work(repairing, Kind.REPAIR, Kind.REPAIR.jobOf(name), repairing.writer(), ChunkLedger.NONE,
                repairing.spec().throttle().rowsPerSecond());
    }

    /** Whether this work reads only, so that its rate counts rows checked. */
    boolean checks() {
        return kind == Kind.VALIDATION;
    }
}
