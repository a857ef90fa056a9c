package dev.sluice.engine.checkpoint;

import java.lang.ref.WeakReference;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.repository.dao.JobExecutionDao;
import org.springframework.batch.core.repository.dao.jdbc.JdbcJobExecutionDao;
import org.springframework.batch.core.repository.dao.jdbc.JdbcJobInstanceDao;
import org.springframework.batch.core.repository.dao.jdbc.JdbcStepExecutionDao;
import org.springframework.batch.core.repository.support.JdbcJobRepositoryFactoryBean;
import org.springframework.batch.core.repository.support.SimpleJobRepository;

/**
 * Spring Batch's JDBC job repository, with a running execution's status read at most once a second before a step's
 * update.
 *
 * <p>Spring Batch reads the job execution's version and status ({@code synchronizeStatus}, a {@code SELECT} in the
 * chunk's transaction) before it saves each chunk's step execution, to see a stop that another process asked for
 * through {@code JobOperator.stop}: one round trip in every chunk's transaction, which with small chunks is a good
 * part of what a chunk costs beyond its write. Sluice asks its runners to stop through its own mailbox, and only the
 * runner that holds a job's lock updates its job execution, so before a step's update the read is made at most once
 * a second for one execution (the very object the runner holds); the updates in between find what the last read
 * found, and a stop asked through Spring Batch is seen within a second. Before the job execution's own update (its
 * start, its end) the read is always made, as Spring Batch makes it: that update checks the execution's version, and
 * must see a change another process made.
 */
final class PacedStatusReads {

    static final long EVERY_NANOS = 1_000_000_000L;

    /** When one execution, as this process holds it in memory, was last read. */
    private record Read(WeakReference<JobExecution> execution, long atNanos) {}

    private final Map<Long, Read> reads = new ConcurrentHashMap<>();

    /** Spring Batch's JDBC repository, wired as its factory wires it, its job execution DAO paced. */
    static JdbcJobRepositoryFactoryBean factory() {
        return new JdbcJobRepositoryFactoryBean() {
            @Override
            protected Object getTarget() {
                PacedStatusReads paced = new PacedStatusReads();
                JdbcJobInstanceDao instances = createJobInstanceDao();
                JdbcJobExecutionDao executions = createJobExecutionDao();
                executions.setJobInstanceDao(instances);
                JdbcStepExecutionDao steps = createStepExecutionDao();
                steps.setJobExecutionDao(executions);
                return new SimpleJobRepository(instances, paced.dao(executions), steps, createExecutionContextDao()) {
                    @Override
                    public void update(JobExecution execution) {
                        paced.forget(execution);
                        super.update(execution);
                    }
                };
            }
        };
    }

    /** The next read of {@code execution}'s status is made, however recent the last. */
    void forget(JobExecution execution) {
        reads.remove(execution.getId());
    }

    JobExecutionDao dao(JobExecutionDao delegate) {
        return (JobExecutionDao) Proxy.newProxyInstance(
                JobExecutionDao.class.getClassLoader(),
                new Class<?>[] {JobExecutionDao.class},
                (proxy, method, args) -> {
                    JobExecution synchronizing = method.getName().equals("synchronizeStatus")
                                    && args != null
                                    && args.length == 1
                                    && args[0] instanceof JobExecution e
                            ? e
                            : null;
                    long now = System.nanoTime();
                    if (synchronizing != null) {
                        Read last = reads.get(synchronizing.getId());
                        if (last != null
                                && last.execution().get() == synchronizing
                                && now - last.atNanos() < EVERY_NANOS) {
                            return null;
                        }
                    }
                    Object result;
                    try {
                        result = method.invoke(delegate, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (synchronizing != null) {
                        reads.put(synchronizing.getId(), new Read(new WeakReference<>(synchronizing), now));
                    }
                    return result;
                });
    }
}
