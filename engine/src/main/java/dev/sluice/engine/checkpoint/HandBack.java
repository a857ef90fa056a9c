package dev.sluice.engine.checkpoint;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.function.Predicate;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.ExitStatus;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.StepExecution;

/**
 * A job repository through which one partition's end is saved as "still running" when a worker lets the partition
 * go: its status is STARTED again before Spring Batch saves it, so that no reader of the repository (the runner
 * polling for the partitions' end) ever sees it stopped or failed on the way to another worker.
 */
final class HandBack {

    private HandBack() {}

    /**
     * @param partition the partition's step execution id
     * @param lettingGo given the partition's execution as Spring Batch is about to save it, whether this is the
     *                  worker letting it go
     */
    static JobRepository repository(JobRepository delegate, long partition, Predicate<StepExecution> lettingGo) {
        return (JobRepository) Proxy.newProxyInstance(
                JobRepository.class.getClassLoader(), new Class<?>[] {JobRepository.class}, (proxy, method, args) -> {
                    if (method.getName().equals("update")
                            && args != null
                            && args.length == 1
                            && args[0] instanceof StepExecution e
                            && e.getId() == partition
                            && lettingGo.test(e)) {
                        e.setStatus(BatchStatus.STARTED);
                        e.setExitStatus(ExitStatus.EXECUTING);
                        e.setEndTime(null);
                    }
                    try {
                        return method.invoke(delegate, args);
                    } catch (InvocationTargetException ex) {
                        throw ex.getCause();
                    }
                });
    }
}
