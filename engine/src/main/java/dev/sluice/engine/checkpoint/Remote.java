package dev.sluice.engine.checkpoint;

import java.time.Duration;

import dev.sluice.engine.StopSignal;
import dev.sluice.engine.throttle.Pacer;

import org.springframework.messaging.Message;

/**
 * Sends a run's partitions to {@code sluice worker} processes instead of running them on threads of the runner
 * ({@code workers: remote}): the requests are Spring Batch Integration's ({@link PartitionRequests}), the channel that
 * carries them and the watch of the workers are {@code fleet}'s.
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
        /** Sends a partition's request to the workers ({@link PartitionRequests#stepExecutionId} names it). */
        void send(Message<?> request);

        /**
         * Watches the run's partitions while the sender waits (their workers' leases, the run's orders), calling
         * {@code tick} every second; closing it stops the watch and withdraws the orders.
         */
        AutoCloseable watch(long jobExecutionId, Runnable tick);

        /** An operator's tune: the workers share the new rate, and size toward the new target (null: unchanged). */
        void tuned(long rowsPerSecond, Duration chunkTarget);
    }
}
