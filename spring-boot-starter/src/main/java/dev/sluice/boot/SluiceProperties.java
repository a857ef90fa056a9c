package dev.sluice.boot;

import java.util.ArrayList;
import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;

/** {@code sluice.*} in the application's configuration. */
@ConfigurationProperties("sluice")
public class SluiceProperties {

    /** The schema of Sluice's job repository in the application's database. */
    private String schema = "sluice";

    /** Where job specs are read from (Spring resource patterns). */
    private List<String> jobs =
            new ArrayList<>(List.of("classpath*:sluice/jobs/*.yml", "classpath*:sluice/jobs/*.yaml"));

    /** Whether this instance runs the jobs on their schedules (false: the endpoint and the Backfill only). */
    private boolean scheduling = true;

    /** The application as a remote worker: how many partitions of {@code workers: remote} jobs it runs at once. */
    private final Worker worker = new Worker();

    /** {@code sluice.worker.*}. */
    public static class Worker {
        /** Partitions of remote jobs this instance runs at once (0: it takes none). */
        private int threads;

        public int getThreads() {
            return threads;
        }

        public void setThreads(int threads) {
            this.threads = threads;
        }
    }

    public Worker getWorker() {
        return worker;
    }

    public String getSchema() {
        return schema;
    }

    public void setSchema(String schema) {
        this.schema = schema;
    }

    public List<String> getJobs() {
        return jobs;
    }

    public void setJobs(List<String> jobs) {
        this.jobs = jobs;
    }

    public boolean isScheduling() {
        return scheduling;
    }

    public void setScheduling(boolean scheduling) {
        this.scheduling = scheduling;
    }
}
