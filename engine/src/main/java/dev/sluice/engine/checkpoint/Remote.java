package dev.sluice.engine.checkpoint;

import java.time.Duration;

import dev.sluice.engine.StopSignal;
import dev.sluice.engine.throttle.Pacer;

import org.springframework.batch.core.partition.PartitionHandler;

/**
 * Sends a run's partitions to {@code sluice worker} processes instead of running them on threads of the runner
 * ({@code workers: remote}); implemented over Spring Batch Integration in {@code fleet}, handled here
 * ({@link RemoteHandler}).
 */
public interface Remote {

    /**
     * The remote side of one run.
     *
     * @param stop  the partitions' stop: an operator's or a signal's, or one partition's failure; obeyed by every worker
     *              after its chunk
     * @param pacer the run's pacer, whose rate (the spec's, or an operator's tune) the workers share
     */
    Run open(CheckpointStore store, Work work, StopSignal stop, Pacer pacer);

    /** One run's partitions on workers. */
    interface Run {
        /** The handler that sends each partition's request and waits on the job repository until each has ended. */
        PartitionHandler sender();

        /**
         * Watches the run's partitions while the sender waits (their workers' leases, the run's orders), calling
         * {@code tick} every second; closing it stops the watch and withdraws the orders.
         */
        AutoCloseable watch(long jobExecutionId, Runnable tick);

        /** An operator's tune: the workers share the new rate, and size toward the new target (null: unchanged). */
        void tuned(long rowsPerSecond, Duration chunkTarget);
    }
}
