package dev.sluice.boot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.SpecParser;

import org.springframework.core.io.Resource;
import org.springframework.core.io.support.ResourcePatternResolver;

/**
 * The jobs an application declares: the specs under {@code classpath:sluice/jobs/*.yml} (or the locations
 * {@code sluice.jobs} names) and its {@link JobSpec} beans. A spec that does not parse stops the application at
 * start, naming the file and the field: it is the application's own code, and a job silently left out would never
 * run.
 */
public final class SluiceJobs {

    private final List<JobSpec> specs;

    public SluiceJobs(List<JobSpec> specs) {
        Map<String, JobSpec> byName = new LinkedHashMap<>();
        for (JobSpec s : specs) {
            if (byName.putIfAbsent(s.name(), s) != null) {
                throw new IllegalStateException(
                        "two Sluice jobs are named " + s.name() + "; a job's name is its identity");
            }
        }
        this.specs = List.copyOf(byName.values());
    }

    /** Reads the specs at {@code locations}, in file name order within each. */
    public static List<JobSpec> read(ResourcePatternResolver resolver, List<String> locations) {
        List<JobSpec> out = new ArrayList<>();
        for (String location : locations) {
            Resource[] found;
            try {
                found = resolver.getResources(location);
            } catch (IOException e) {
                throw new IllegalStateException(
                        "cannot list Sluice job specs at " + location + ": " + e.getMessage(), e);
            }
            for (Resource r : Arrays.stream(found)
                    .sorted(Comparator.comparing(r -> String.valueOf(r.getFilename())))
                    .toList()) {
                try {
                    out.add(SpecParser.parse(r.getContentAsString(StandardCharsets.UTF_8)));
                } catch (SpecException e) {
                    throw new IllegalStateException("Sluice job spec " + r.getDescription() + ": " + e.getMessage(), e);
                } catch (IOException e) {
                    throw new IllegalStateException("cannot read " + r.getDescription() + ": " + e.getMessage(), e);
                }
            }
        }
        return out;
    }

    public List<JobSpec> specs() {
        return specs;
    }
}
