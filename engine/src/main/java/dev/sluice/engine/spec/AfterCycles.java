package dev.sluice.engine.spec;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Jobs that wait for each other ({@code after}) in a cycle would never start: refused where the specs are known. */
public final class AfterCycles {

    /** The spec of a job by its name, where one is known. */
    @FunctionalInterface
    public interface Specs {
        Optional<JobSpec> of(String name) throws Exception;
    }

    private AfterCycles() {}

    /**
     * @param specs the other jobs' specs (files beside it, or those recorded in the database)
     * @throws SpecException (field {@code after}) naming the cycle, e.g. {@code a -> b -> a}
     */
    public static void refuse(JobSpec spec, Specs specs) throws Exception {
        walk(spec, new ArrayList<>(List.of(spec.name())), specs);
    }

    private static void walk(JobSpec spec, List<String> path, Specs specs) throws Exception {
        for (String other : spec.after()) {
            if (path.contains(other)) {
                List<String> loop = new ArrayList<>(path.subList(path.indexOf(other), path.size()));
                loop.add(other);
                throw new SpecException(
                        "after", "the jobs wait for each other in a cycle: " + String.join(" -> ", loop));
            }
            Optional<JobSpec> theirs = specs.of(other);
            if (theirs.isPresent()) {
                path.add(other);
                walk(theirs.get(), path, specs);
                path.remove(path.size() - 1);
            }
        }
    }
}
