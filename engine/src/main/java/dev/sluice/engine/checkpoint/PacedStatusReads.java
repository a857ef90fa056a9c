package dev.sluice.engine.checkpoint;

import java.lang.ref.WeakReference;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.repository.dao.JobExecutionDao;

/**
 * Spring Batch's job execution DAO, with a running execution's status read from the repository at most once a second.
 *
 * <p>Spring Batch reads the job execution's version and status ({@code synchronizeStatus}, a {@code SELECT} in the
 * chunk's transaction) before it saves each chunk's step execution, to see a stop that another process asked for
 * through {@code JobOperator.stop}. That is one round trip to the server in each chunk's transaction, a twentieth of
 * a small chunk's time. Sluice asks its runners to stop through its own mailbox, and only a runner updates its own job
 * execution (its lock keeps any other runner out), so the read is made at most once a second for one execution (as
 * Spring Batch holds it in memory); the calls in between find what the last read found. A stop asked through Spring
 * Batch is still seen, within a second; a job execution changed behind the runner's back still fails its next update
 * with Spring Batch's optimistic locking, as before.
 */
final class PacedStatusReads {

    static final long EVERY_NANOS = 1_000_000_000L;

    private PacedStatusReads() {}

    /** When one execution, as this process holds it in memory, was last read. */
    private record Read(WeakReference<JobExecution> execution, long atNanos) {}

    static JobExecutionDao of(JobExecutionDao delegate) {
        // By id, and then the very object: another object of the same execution (read afresh) is always read.
        Map<Long, Read> reads = new ConcurrentHashMap<>();
        return (JobExecutionDao) Proxy.newProxyInstance(
                JobExecutionDao.class.getClassLoader(),
                new Class<?>[] {JobExecutionDao.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("synchronizeStatus")
                            && args != null
                            && args.length == 1
                            && args[0] instanceof JobExecution execution) {
                        long now = System.nanoTime();
                        Read last = reads.get(execution.getId());
                        if (last != null && last.execution().get() == execution && now - last.atNanos() < EVERY_NANOS) {
                            return null;
                        }
                        reads.put(execution.getId(), new Read(new WeakReference<>(execution), now));
                    }
                    try {
                        return method.invoke(delegate, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
