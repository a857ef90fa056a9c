package dev.sluice.engine.fleet;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.checkpoint.CheckpointStore;
import dev.sluice.engine.checkpoint.PartitionRequests;
import dev.sluice.engine.checkpoint.RemotePartition;
import dev.sluice.engine.control.RemoteRuns;

import org.postgresql.jdbc.PgConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.integration.jdbc.channel.PgConnectionSupplier;
import org.springframework.integration.jdbc.channel.PostgresChannelMessageTableSubscriber;
import org.springframework.integration.jdbc.channel.PostgresSubscribableChannel;
import org.springframework.messaging.MessageHandler;

/**
 * A {@code sluice worker}'s taking of partitions: Spring Integration's PostgreSQL subscribable channel over the {@link
 * PartitionChannel}'s message store, woken by LISTEN/NOTIFY when a runner sends, each request handled by {@link
 * PartitionRequests#handler} (Spring Batch Integration's, running its step execution as a {@link RemotePartition}). At most {@code
 * threads} partitions at once: a thread polls the store only while it is free, so a busy worker leaves the next
 * partitions in the channel for others. Every two seconds the channel is also polled without a notification (one missed
 * while every thread was busy, or while the listening connection was being opened again).
 */
public final class Worker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Worker.class);
    private static final long NUDGE_EVERY_MILLIS = 2000;
    private static final long RECONNECT_PAUSE_MILLIS = 1000;

    private final PostgresChannelMessageTableSubscriber subscriber;
    private final PostgresSubscribableChannel channel;
    private final MessageHandler handler;
    private final ThreadPoolExecutor threads;
    private final ScheduledExecutorService nudges;
    private final Listening listening;

    /**
     * Starts taking partitions.
     *
     * @param dataSource the job repository's database, where the channel is
     * @param step       what runs a partition
     * @param threads    how many partitions this worker runs at once
     */
    public Worker(DataSource dataSource, CheckpointStore store, RemotePartition step, int threads) {
        AtomicInteger n = new AtomicInteger();
        this.threads = new ThreadPoolExecutor(
                threads,
                threads,
                1,
                TimeUnit.MINUTES,
                new SynchronousQueue<>(),
                r -> {
                    Thread t = new Thread(r, "sluice-worker-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                },
                new ThreadPoolExecutor.DiscardPolicy());
        this.listening = new Listening(dataSource);
        this.subscriber = new PostgresChannelMessageTableSubscriber(listening, RemoteRuns.notifyPrefix(store.schema()));
        this.channel = new PostgresSubscribableChannel(
                PartitionChannel.store(dataSource, store.schema()), PartitionChannel.GROUP, subscriber);
        channel.setBeanName("sluice-partitions");
        // Spring Integration's components look their settings up in a bean factory: an empty one, its defaults.
        channel.setBeanFactory(new DefaultListableBeanFactory());
        channel.setDispatcherExecutor(this.threads);
        channel.setErrorHandler(e -> LOG.warn("a partition's request could not be handled: {}", e.getMessage()));
        channel.afterPropertiesSet();
        this.handler = PartitionRequests.handler(store, step);
        channel.subscribe(handler);
        subscriber.start();
        this.nudges = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sluice-worker-nudge");
            t.setDaemon(true);
            return t;
        });
        nudges.scheduleWithFixedDelay(
                channel::notifyUpdate, NUDGE_EVERY_MILLIS, NUDGE_EVERY_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * Takes no more partitions, and waits up to {@code waitMillis} for those it runs to end (their stop is the
     * caller's to request).
     */
    public void close(long waitMillis) {
        nudges.shutdownNow();
        channel.unsubscribe(handler);
        try {
            subscriber.stop();
        } catch (RuntimeException e) {
            LOG.debug("the channel's listener did not stop cleanly: {}", e.getMessage());
        }
        threads.shutdown();
        try {
            threads.awaitTermination(waitMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        listening.close();
    }

    @Override
    public void close() {
        close(0);
    }

    /**
     * The listening connection: one connection of the pool, kept out of it for the listener. When the listener drops it
     * (the database went away), it is returned to the pool (which finds it broken) before another is taken; a
     * database that does not answer is asked again at most once a second.
     */
    private static final class Listening implements PgConnectionSupplier {
        private final DataSource dataSource;
        private Connection held;
        private long lastCall;

        Listening(DataSource dataSource) {
            this.dataSource = dataSource;
        }

        @Override
        public synchronized PgConnection get() throws SQLException {
            close();
            long since = System.currentTimeMillis() - lastCall;
            lastCall = System.currentTimeMillis();
            if (since < RECONNECT_PAUSE_MILLIS) {
                try {
                    Thread.sleep(RECONNECT_PAUSE_MILLIS - since);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SQLException("interrupted while reconnecting the listener", e);
                }
            }
            Connection c = dataSource.getConnection();
            held = c;
            c.setAutoCommit(true);
            return c.unwrap(PgConnection.class);
        }

        synchronized void close() {
            if (held == null) {
                return;
            }
            try {
                // The listener closed the connection under the pool: a Hikari pool is told to drop it (else it would
                // warn of a broken connection on taking it back).
                if (held.unwrap(PgConnection.class).isClosed() && dataSource.isWrapperFor(HikariDataSource.class)) {
                    dataSource.unwrap(HikariDataSource.class).evictConnection(held);
                } else {
                    held.close();
                }
            } catch (SQLException e) {
                // broken already: the pool drops it
            }
            held = null;
        }
    }
}
