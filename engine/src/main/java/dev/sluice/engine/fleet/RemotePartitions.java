package dev.sluice.engine.fleet;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

import dev.sluice.engine.StopSignal;
import dev.sluice.engine.checkpoint.CheckpointStore;
import dev.sluice.engine.checkpoint.PartitionRequests;
import dev.sluice.engine.checkpoint.Remote;
import dev.sluice.engine.checkpoint.Work;
import dev.sluice.engine.chunk.Failures;
import dev.sluice.engine.control.Reconnection;
import dev.sluice.engine.control.RemoteRuns;
import dev.sluice.engine.keyset.Sql;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.throttle.Pacer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.integration.jdbc.store.JdbcChannelMessageStore;
import org.springframework.messaging.Message;

/**
 * The runner's side of {@code workers: remote}: each partition's request ({@link PartitionRequests}) is put on the
 * {@link PartitionChannel}, its lease recorded first, while the runner waits on the job repository until every partition
 * has ended. Beside it, a watch of the partitions' leases, every second:
 *
 * <ul>
 *   <li>a partition whose worker died (its lock free and its session gone, or its heartbeat silent for a lease) is sent
 *       again, and the next worker continues it from its checkpoint;
 *   <li>a worker whose heartbeat stopped while its session still holds the lock (cut off, not yet found dead by the
 *       server) has its session ended, so that nothing of it commits after its partition is handed on;
 *   <li>the run's orders are published for the workers: the rate they share, an operator's chunk target, and the stop
 *       (an operator's pause or cancel, a signal, or a partition that failed, which stops the others as it does here).
 * </ul>
 */
public final class RemotePartitions implements Remote {

    private static final Logger LOG = LoggerFactory.getLogger(RemotePartitions.class);
    private static final long WATCH_EVERY_MILLIS = 1000;
    // Said once per partition: a run whose partitions nobody takes is waiting for workers that may not exist.
    private static final Duration UNTAKEN_WARNING = Duration.ofSeconds(30);
    // A partition sent this often without a worker keeping it (each one failing at once, say) stops the run.
    private static final int MAX_SENDS = 20;

    private final Duration lease;

    /** @param lease how long a worker's heartbeat may be silent before its partition is handed on */
    public RemotePartitions(Duration lease) {
        this.lease = lease;
    }

    @Override
    public Run open(CheckpointStore store, Work work, StopSignal stop, Pacer pacer) {
        return new RemoteRun(store, work.prepared().spec(), stop, pacer, lease);
    }

    private static final class RemoteRun implements Run {
        private final CheckpointStore store;
        private final JobSpec spec;
        private final StopSignal stop;
        private final Pacer pacer;
        private final Duration lease;
        private final RemoteRuns runs;
        private final JdbcChannelMessageStore messages;
        private volatile long jobExecutionId;
        private volatile Runnable tick = () -> {};
        private volatile Duration target;
        private String published;

        RemoteRun(CheckpointStore store, JobSpec spec, StopSignal stop, Pacer pacer, Duration lease) {
            this.store = store;
            this.spec = spec;
            this.stop = stop;
            this.pacer = pacer;
            this.lease = lease;
            this.runs = new RemoteRuns(store.dataSource(), store.schema());
            this.messages = PartitionChannel.store(store.dataSource(), store.schema());
        }

        @Override
        public AutoCloseable watch(long jobExecutionId, Runnable tick) {
            this.jobExecutionId = jobExecutionId;
            this.tick = tick;
            try {
                publish();
            } catch (SQLException e) {
                throw new IllegalStateException("cannot publish the run's orders: " + e.getMessage(), e);
            }
            Thread watch = new Thread(this::watch, "sluice-remote-" + spec.name());
            watch.setDaemon(true);
            watch.start();
            return () -> {
                watch.interrupt();
                try {
                    runs.ended(jobExecutionId);
                } catch (SQLException e) {
                    LOG.debug("job {}: the run's orders stay: {}", spec.name(), e.getMessage());
                }
            };
        }

        @Override
        public void tuned(long rowsPerSecond, Duration chunkTarget) {
            if (chunkTarget != null) {
                target = chunkTarget;
            }
            try {
                publish();
            } catch (SQLException e) {
                LOG.warn("job {}: the workers keep the old rate for now: {}", spec.name(), e.getMessage());
            }
        }

        private synchronized void publish() throws SQLException {
            String reason = stop.requested() ? stop.reason() : null;
            runs.publish(
                    jobExecutionId,
                    spec.name(),
                    new RemoteRuns.Orders(
                            pacer.rowsPerSecond(),
                            spec.throttle().walBytesPerSecond().bytes(),
                            target,
                            reason));
            published = reason;
        }

        /** Sends a request: its lease recorded first, so that the worker that takes it finds its row. */
        @Override
        public void send(Message<?> message) {
            Long stepExecutionId = PartitionRequests.stepExecutionId(message);
            if (stepExecutionId == null) {
                throw new IllegalArgumentException("not a partition's request: " + message);
            }
            try {
                runs.sent(
                        stepExecutionId,
                        jobExecutionId,
                        spec.name(),
                        String.valueOf(message.getHeaders().getId()));
            } catch (SQLException e) {
                throw new IllegalStateException("cannot record the lease of a partition: " + e.getMessage(), e);
            }
            messages.addMessageToGroup(PartitionChannel.GROUP, message);
        }

        private void watch() {
            Set<Long> warned = new HashSet<>();
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(WATCH_EVERY_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
                try {
                    watchOnce(warned);
                } catch (SQLException | RuntimeException e) {
                    if (Reconnection.isLost(e)) {
                        LOG.debug("job {}: cannot watch the workers while the database is away", spec.name());
                    } else {
                        LOG.warn("job {}: cannot watch the workers: {}", spec.name(), Failures.describe(e));
                    }
                }
            }
        }

        private void watchOnce(Set<Long> warned) throws SQLException {
            tick.run();
            String failed = failedPartition();
            if (failed != null) {
                stop.request("stopped: partition " + failed + " failed");
            }
            if (stop.requested() && !stop.reason().equals(published)) {
                publish();
            }
            long leaseMillis = lease.toMillis();
            long now = System.nanoTime();
            Set<Long> seen = new HashSet<>();
            for (RemoteRuns.Lease l : runs.running(jobExecutionId, RemoteRuns.channelTable(store.schema()))) {
                seen.add(l.stepExecutionId());
                try {
                    watch(l, leaseMillis, now, warned);
                } catch (SQLException | RuntimeException e) {
                    // One partition's trouble (a fence refused) must not keep the others from being watched.
                    if (warned.add(-l.stepExecutionId())) {
                        LOG.warn(
                                "job {}: cannot hand partition {} on: {}", spec.name(), l.part(), Failures.describe(e));
                    }
                }
            }
            untaken.keySet().retainAll(seen);
        }

        // When each partition was first seen taken from the channel by no worker that holds it: the lease counts from
        // then, not from its sending (a partition may wait in the channel for long while the workers are busy).
        private final java.util.Map<Long, Long> untaken = new java.util.HashMap<>();

        private void watch(RemoteRuns.Lease l, long leaseMillis, long now, Set<Long> warned) throws SQLException {
            if (l.sends() > MAX_SENDS) {
                stop.request("stopped: partition " + l.part() + " was sent " + l.sends()
                        + " times and no worker kept it; see the workers' logs");
                return;
            }
            if (l.backendPid() == null) {
                if (l.queued()) {
                    untaken.remove(l.stepExecutionId());
                    if (l.sinceSentMillis() > UNTAKEN_WARNING.toMillis() && warned.add(l.stepExecutionId())) {
                        LOG.warn(
                                "job {}: no worker has taken partition {} for {} s: is 'sluice worker' running"
                                        + " against this database?",
                                spec.name(),
                                l.part(),
                                l.sinceSentMillis() / 1000);
                    }
                    return;
                }
                long since = untaken.computeIfAbsent(l.stepExecutionId(), k -> now);
                if (now - since > leaseMillis * 1_000_000L) {
                    resend(l, "taken by a worker that never held it");
                }
                return;
            }
            untaken.remove(l.stepExecutionId());
            if (!l.locked()) {
                boolean silent = l.sinceHeartbeatMillis() == null || l.sinceHeartbeatMillis() > leaseMillis;
                if (!l.backendAlive() || silent) {
                    resend(l, "its worker is gone");
                }
            } else if (l.sinceHeartbeatMillis() != null && l.sinceHeartbeatMillis() > leaseMillis) {
                LOG.warn(
                        "job {}: the worker of partition {} has been silent for {} s: ending its session"
                                + " (PostgreSQL backend {}) so that the partition can be handed on",
                        spec.name(),
                        l.part(),
                        l.sinceHeartbeatMillis() / 1000,
                        l.backendPid());
                runs.fence(spec.name(), l.part(), l.backendPid());
            }
        }

        private void resend(RemoteRuns.Lease l, String why) throws SQLException {
            Message<?> message = PartitionRequests.request(l.stepExecutionId());
            // Only if it stands as seen: a worker that took it since keeps it.
            if (runs.resent(
                    l.stepExecutionId(),
                    l.messageId(),
                    l.backendPid(),
                    String.valueOf(message.getHeaders().getId()))) {
                untaken.remove(l.stepExecutionId());
                messages.addMessageToGroup(PartitionChannel.GROUP, message);
                LOG.info(
                        "job {}: partition {} sent again ({}); it continues from its checkpoint",
                        spec.name(),
                        l.part(),
                        why);
            }
        }

        /** The name of a partition of this run that failed, or null. */
        private String failedPartition() throws SQLException {
            try (Connection c = store.dataSource().getConnection();
                    PreparedStatement ps = c.prepareStatement("SELECT step_name FROM " + Sql.quote(store.schema())
                            + ".batch_step_execution WHERE job_execution_id = ? AND status = 'FAILED' LIMIT 1")) {
                ps.setLong(1, jobExecutionId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        }
    }
}
