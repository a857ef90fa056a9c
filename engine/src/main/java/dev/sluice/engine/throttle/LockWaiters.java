package dev.sluice.engine.throttle;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import javax.sql.DataSource;

import dev.sluice.engine.chunk.ChunkLoop;
import dev.sluice.engine.chunk.DaemonThreads;

/**
 * {@code health.lock-waiters}: while a chunk runs, looks every {@code max-wait / 4} (at least 20 ms) for sessions
 * waiting on a lock the chunk's backend holds ({@code pg_locks.waitstart}, PostgreSQL 14+, and
 * {@code pg_blocking_pids}). A wait longer than {@code max-wait} makes the loop give way once the chunk commits: the
 * next chunks are a tenth of the size and the next one waits {@code max-wait} first, so that the application gets its
 * locks and is never queued behind the backfill for longer than the chunk it met. Reading fails quietly: a watch
 * that cannot read reports nothing (the chunk's own lock timeout still bounds what others wait).
 */
public final class LockWaiters implements ChunkLoop.Waiters, AutoCloseable {

    private static final String QUERY = """
            SELECT coalesce(max(extract(epoch FROM clock_timestamp() - l.waitstart) * 1000), 0)::bigint
            FROM pg_locks l WHERE NOT l.granted AND l.waitstart IS NOT NULL AND ? = ANY (pg_blocking_pids(l.pid))""";
    private static final long MIN_POLL_MILLIS = 20;

    private final DataSource dataSource;
    private final long maxWaitMillis;
    private final ScheduledExecutorService poller;

    public LockWaiters(DataSource dataSource, Duration maxWait, String name) {
        this.dataSource = dataSource;
        this.maxWaitMillis = maxWait.toMillis();
        this.poller = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named(name));
    }

    @Override
    public Watch watch(int pid) {
        AtomicLong longest = new AtomicLong();
        long every = Math.max(MIN_POLL_MILLIS, maxWaitMillis / 4);
        ScheduledFuture<?> polling = poller.scheduleWithFixedDelay(
                () -> longest.accumulateAndGet(waited(pid), Math::max), every, every, TimeUnit.MILLISECONDS);
        return () -> {
            polling.cancel(false);
            long seen = longest.get();
            return seen > maxWaitMillis ? seen : 0;
        };
    }

    /** The longest wait now of a session on {@code pid}'s locks, in milliseconds. */
    private long waited(int pid) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(QUERY)) {
            ps.setInt(1, pid);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        } catch (SQLException e) {
            return 0;
        }
    }

    @Override
    public void close() {
        poller.shutdownNow();
    }
}
