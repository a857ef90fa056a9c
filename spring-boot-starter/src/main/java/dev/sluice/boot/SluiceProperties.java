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
