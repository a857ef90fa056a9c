package dev.sluice.engine.checkpoint;

import dev.sluice.engine.JobStatus;
import dev.sluice.engine.chunk.ChunkLedger;
import dev.sluice.engine.chunk.ChunkLoop;
import dev.sluice.engine.chunk.ChunkWriter;
import dev.sluice.engine.chunk.KeysetSource;
import dev.sluice.engine.keyset.KeySplits;
import dev.sluice.engine.preflight.Prepared;
import dev.sluice.engine.sync.KeyLogDrain;
import dev.sluice.engine.sync.SyncDefinition;
import dev.sluice.engine.undo.Restorer;
import dev.sluice.engine.validate.RangeCheck;
import dev.sluice.engine.validate.ValidationLedger;

/**
 * What a job's chunks do: the backfill writes; a validation only reads, and keeps its findings in its ledger; a
 * repair writes where validation finds mismatches. Each is a Spring Batch job of its own, named after the spec.
 *
 * @param jobName       the spec's name for the backfill, with {@code .validate} or {@code .repair} for the others
 * @param rowsPerSecond the rate limit, in rows written (a validation: rows checked) per second, 0 for none
 * @param estimatedRows what progress is measured against: the planner's estimate of the table's rows, or for a
 *                      rollback the journal's rows when it started
 * @param rateGiven     whether the rate was given for this run (a command-line option), rather than taken from the
 *                      spec: an operator's tune of the job ({@link dev.sluice.engine.control.Tuning}) yields to it
 */
public record Work(
        Prepared prepared,
        Kind kind,
        String jobName,
        ChunkLoop.Source source,
        ChunkWriter writer,
        ChunkLedger ledger,
        long rowsPerSecond,
        long estimatedRows,
        boolean rateGiven) {

    /** The kinds of work on a spec. */
    public enum Kind {
        BACKFILL("backfill", ""),
        VALIDATION("validate", ".validate"),
        REPAIR("backfill", ".repair"),
        ROLLBACK("rollback", ".rollback");

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

        /** This kind of work as status names it. */
        public JobStatus.Work status() {
            return switch (this) {
                case BACKFILL -> JobStatus.Work.BACKFILL;
                case VALIDATION -> JobStatus.Work.VALIDATION;
                case REPAIR -> JobStatus.Work.REPAIR;
                case ROLLBACK -> JobStatus.Work.ROLLBACK;
            };
        }

        /** The kind of work status names {@code work}. */
        public static Kind of(JobStatus.Work work) {
            return switch (work) {
                case BACKFILL -> BACKFILL;
                case VALIDATION -> VALIDATION;
                case REPAIR -> REPAIR;
                case ROLLBACK -> ROLLBACK;
            };
        }

        /**
         * Whether a Spring Batch job of that name is a backfill: a spec's own name never holds a dot, and every other
         * job Sluice records is named after one with a suffix (a validation, repair or rollback; a fleet's rollout).
         */
        public static boolean isBackfill(String jobName) {
            return jobName.indexOf('.') < 0;
        }
    }

    /** The backfill of a prepared spec. */
    public static Work backfill(Prepared prepared) {
        return new Work(
                prepared,
                Kind.BACKFILL,
                prepared.spec().name(),
                keyset(prepared),
                prepared.writer(),
                keyLog(prepared),
                prepared.spec().throttle().rowsPerSecond(),
                prepared.estimatedRows(),
                false);
    }

    /** With a sync trigger that logs keys, every chunk re-applies the logged keys behind it (see KeyLogDrain). */
    private static ChunkLedger keyLog(Prepared prepared) {
        SyncDefinition sync = prepared.sync();
        return sync == null || sync.kind() != SyncDefinition.Kind.LOG
                ? ChunkLedger.NONE
                : new KeyLogDrain(sync.names(), prepared.plan(), prepared.source());
    }

    /**
     * The validation of a prepared spec by {@code check}, at {@code rowsPerSecond} rows checked.
     *
     * @param rateGiven whether the rate was given for this validation (else it is the spec's)
     */
    public static Work validation(Prepared prepared, RangeCheck check, long rowsPerSecond, boolean rateGiven) {
        return new Work(
                prepared,
                Kind.VALIDATION,
                Kind.VALIDATION.jobOf(prepared.spec().name()),
                keyset(prepared),
                ChunkWriter.READ_ONLY,
                new ValidationLedger(check),
                rowsPerSecond,
                prepared.estimatedRows(),
                rateGiven);
    }

    /** The repair of job {@code name}: a spec prepared to write only the mismatching rows. */
    public static Work repair(String name, Prepared repairing) {
        return new Work(
                repairing,
                Kind.REPAIR,
                Kind.REPAIR.jobOf(name),
                keyset(repairing),
                repairing.writer(),
                ChunkLedger.NONE,
                repairing.spec().throttle().rowsPerSecond(),
                repairing.estimatedRows(),
                false);
    }

    /**
     * The rollback of a prepared spec: its journal's entries restored newest first, at the spec's rate in rows
     * restored.
     *
     * @param force       whether rows changed since the backfill wrote them are restored too
     * @param journalRows the rows the journal holds now: what a new rollback has to go through (one that continues
     *                    keeps the figure it started with)
     */
    public static Work rollback(Prepared prepared, boolean force, long journalRows) {
        Restorer restorer = new Restorer(prepared.plan(), force);
        return new Work(
                prepared,
                Kind.ROLLBACK,
                Kind.ROLLBACK.jobOf(prepared.spec().name()),
                restorer,
                restorer,
                restorer,
                prepared.spec().throttle().rowsPerSecond(),
                journalRows,
                false);
    }

    /** Which keys: the key's ranges, in the table (or the source database of a copy). */
    private static ChunkLoop.Source keyset(Prepared prepared) {
        return new KeysetSource(prepared.chunker(), new KeySplits(prepared.keyset()), prepared.source());
    }

    /**
     * How many key-range partitions the work runs at once: the spec's {@code parallel} for a backfill or a repair;
     * one for a validation (its findings are one ledger) and a rollback (its journal is one sequence).
     */
    int parallel() {
        return kind == Kind.BACKFILL || kind == Kind.REPAIR ? prepared.spec().parallel() : 1;
    }

    /** Whether this work reads only, so that its rate counts rows checked. */
    boolean checks() {
        return kind == Kind.VALIDATION;
    }
}
