package dev.sluice.engine;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What {@code Backfill.dryRun} saw: the first chunk applied for real in a transaction that was rolled back.
 *
 * @param range   the chunk's key range
 * @param written rows the chunk wrote (then rolled back)
 * @param seconds how long the chunk took
 * @param columns the target columns, in the order of each sample's values
 * @param samples a few of the chunk's rows, before and after its write
 */
public record DryRunResult(KeyRange range, long written, double seconds, List<String> columns, List<Sample> samples) {

    public DryRunResult {
        columns = List.copyOf(columns);
        samples = List.copyOf(samples);
    }

    /** A sampled row: its key, and the target columns' values before and after the chunk's write (text, or null). */
    public record Sample(Key key, List<String> before, List<String> after) {
        public Sample {
            before = Collections.unmodifiableList(new ArrayList<>(before)); // values may be SQL NULL
            after = Collections.unmodifiableList(new ArrayList<>(after));
        }
    }
}
