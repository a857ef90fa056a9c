package dev.sluice.engine;

import java.util.List;

/**
 * What a run will cost, estimated by {@code Backfill.estimate} from a sample chunk written and rolled back: WAL and
 * time per row and for the whole run, whether updates can be HOT, and the connections it holds.
 *
 * @param sampleRows       rows the sample chunk covered (0: an empty table, nothing to estimate)
 * @param walPerRow        WAL bytes per row the sample wrote
 * @param secondsPerRow    wall time per row of the sample, finding and writing included
 * @param rows             rows the run will write (the planner's estimate of rows matching the spec's filter)
 * @param walBytes         WAL bytes the whole run will write
 * @param seconds          the run's duration: the sample's pace, or the throttle's where it is slower
 * @param indexedTargets   written columns that an index reads (their updates cannot be HOT)
 * @param indexes          indexes on the written table: entries each non-HOT update writes
 * @param fillfactor       the written table's fillfactor (100 when not set)
 * @param hotShare         the share of the table's past updates that were HOT, or -1 when it had too few to say
 *                         (a few thousand, counted before this plan's sample)
 * @param recommendations  one line each, where something is costly
 * @param ranges           the key ranges {@code parallel} cuts the table into, in key order (one for parallel 1)
 * @param connections      the connections to the target database the run holds at most
 * @param runnerConnections of those, held for the whole run (the runner's lock, its throttle record, the
 *                         operators' mailbox): the rest are held while chunks run
 * @param sourceConnections to a copy's source database, or 0 when the table is in the target
 */
public record CostEstimate(
        long sampleRows,
        double walPerRow,
        double secondsPerRow,
        long rows,
        double walBytes,
        double seconds,
        List<String> indexedTargets,
        int indexes,
        int fillfactor,
        double hotShare,
        List<String> recommendations,
        List<KeyRange> ranges,
        int connections,
        int runnerConnections,
        int sourceConnections) {

    public CostEstimate {
        indexedTargets = List.copyOf(indexedTargets);
        recommendations = List.copyOf(recommendations);
        ranges = List.copyOf(ranges);
    }
}
