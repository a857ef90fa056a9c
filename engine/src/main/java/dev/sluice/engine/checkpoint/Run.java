package dev.sluice.engine.checkpoint;

import java.time.LocalDateTime;
import java.util.List;
import java.util.Map;

import dev.sluice.engine.Key;
import dev.sluice.engine.chunk.ChunkLedger;
import dev.sluice.engine.spec.JobSpec;

/**
 * An execution of a job (the backfill, or its validation or repair), as plain facts read from the job repository.
 *
 * @param number     the job's run number: 1, then one more for each {@code run --again}
 * @param checkpoint where its chunks stand
 * @param stopReason why it stopped (an operator, a signal, a closed window), or null
 * @param failures   what went wrong in it (a failed execution's causes; a lost database shows here too)
 * @param failure    why it failed, in one line, or null
 * @param spec       the spec recorded when the job started, or null
 * @param estimatedRows the planner's estimate of the table's rows when the job started (progress, ETA)
 * @param rateLimit  the rate limit in force, rows per second (0: none), or null if none was recorded
 * @param notes      the chunk notes kept with the checkpoint (a validation's findings)
 * @param recent     rates over the last minute, summed over the partitions
 * @param partitions the key-range partitions, in key order (one for a job that runs one)
 */
public record Run(
        String job,
        RunState state,
        long number,
        Checkpoint checkpoint,
        String stopReason,
        List<Throwable> failures,
        String failure,
        JobSpec spec,
        String specDigest,
        long estimatedRows,
        Long rateLimit,
        Map<String, String> notes,
        RateSamples.Rates recent,
        List<Part> partitions,
        LocalDateTime startedAt,
        LocalDateTime endedAt) {

    public Run {
        failures = List.copyOf(failures);
        notes = Map.copyOf(notes);
        partitions = List.copyOf(partitions);
    }

    /**
     * A key-range partition of the execution: its range {@code (from, to]} (null: open), its state (a Spring Batch
     * status, or {@code COMPLETED} for one that finished in an earlier execution) and its checkpoint.
     */
    public record Part(String name, Key from, Key to, String state, Checkpoint checkpoint) {}

    /** The notes, as ledgers read them. */
    public ChunkLedger.Notes ledgerNotes() {
        return new ChunkLedger.Notes() {
            @Override
            public String get(String key) {
                return notes.get(key);
            }

            @Override
            public void put(String key, String value) {
                throw new UnsupportedOperationException("a finished run's notes are read-only");
            }
        };
    }
}
