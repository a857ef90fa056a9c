package dev.sluice.engine.checkpoint;

import java.time.Duration;

import dev.sluice.engine.StopSignal;
import dev.sluice.engine.throttle.Pacer;

import org.springframework.batch.core.partition.PartitionHandler;

/**
 * Sends a run's partitions to {@code sluice worker} processes instead of running them on threads of the runner
 * ({@code workers: remote}); implemented over Spring Batch Integration in {@code fleet}.
 */
public interface Remote {

    /**
     * The handler of one run's partitions.
     *
     * @param stop  the partitions' stop: an operator's or a signal's, or one partition's failure; obeyed by every worker
     *              after its chunk
     * @param pacer    the run's pacer, whose rate (the spec's, or an operator's tune) the workers share
     * @param progress what the runner's observers are told of the workers' chunks, read back every second
     */
    Handler open(CheckpointStore store, Work work, StopSignal stop, Pacer pacer, RemoteProgress progress);

    /** Sends the partitions, waits on the job repository until each has ended, and tells the workers what changes. */
    interface Handler extends PartitionHandler {
        /** An operator's tune: the workers share the new rate, and size toward the new target (null: unchanged). */
        void tuned(long rowsPerSecond, Duration chunkTarget);
    }
}
