package dev.sluice.engine.checkpoint;

import dev.sluice.engine.throttle.Pacer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Makes a throttled job visible from any process: while a health gate holds chunks back, the reason and its start
 * are in the job's ExecutionContext, committed in a transaction of their own (the chunk's has not begun). Written
 * on changes only, never per chunk.
 */
public final class ThrottleRecorder implements Pacer.Observer {

    private static final Logger LOG = LoggerFactory.getLogger(ThrottleRecorder.class);
    // While only the measured values change, the record is rewritten at most this often: each write is WAL, and
    // a job held back by a lagging slot or replica must not feed that lag with its own status.
    static final long REWRITE_EVERY_MILLIS = 10_000;
    static final String REASON = "sluice.throttleReason";
    static final String SINCE = "sluice.throttledSince";

    private final JobExecution execution;
    private final JobRepository repository;
    private final TransactionTemplate ownTransaction;
    private final Pacer.Observer next;
    private String savedShape;
    private long savedAt;

    public ThrottleRecorder(
            JobExecution execution, JobRepository repository, PlatformTransactionManager tm, Pacer.Observer next) {
        this.execution = execution;
        this.repository = repository;
        this.ownTransaction = new TransactionTemplate(tm);
        this.ownTransaction.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
        this.next = next;
    }

    @Override
    public void throttled(String reason) {
        long now = System.currentTimeMillis();
        String shape = reason.replaceAll("[0-9]+(\\.[0-9]+)?", "#");
        if (shape.equals(savedShape) && now - savedAt < REWRITE_EVERY_MILLIS) {
            next.throttled(reason);
            return;
        }
        LOG.warn("job {} throttled: {}", execution.getJobInstance().getJobName(), reason);
        ExecutionContext ec = execution.getExecutionContext();
        if (!ec.containsKey(SINCE)) {
            ec.putLong(SINCE, now);
        }
        ec.putString(REASON, reason);
        save();
        savedShape = shape;
        savedAt = now;
        next.throttled(reason);
    }

    @Override
    public void unthrottled(long waitedNanos) {
        LOG.info(
                "job {} continues after {} s throttled",
                execution.getJobInstance().getJobName(),
                Math.round(waitedNanos / 1e8) / 10.0);
        clear(execution.getExecutionContext());
        save();
        savedShape = null;
        next.unthrottled(waitedNanos);
    }

    @Override
    public void waited(String reason, long nanos) {
        next.waited(reason, nanos);
    }

    /** An operator tuned the rate: in force from now, and for later executions of the job (see {@link JobRecord}). */
    void tuned(long rate, long specRate) {
        JobRecord.tuned(execution.getExecutionContext(), rate, specRate);
        save();
    }

    /** Removes a throttle record (a job that ends is not throttled). */
    public static void clear(ExecutionContext ec) {
        ec.remove(REASON);
        ec.remove(SINCE);
    }

    /** The recorded reason, or null. */
    public static String reason(ExecutionContext ec) {
        return ec.containsKey(REASON) ? ec.getString(REASON) : null;
    }

    private void save() {
        ownTransaction.executeWithoutResult(status -> repository.updateExecutionContext(execution));
    }
}
