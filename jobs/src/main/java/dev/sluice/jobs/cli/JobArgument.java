package dev.sluice.jobs.cli;

import java.nio.file.Files;
import java.nio.file.Path;

import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.SpecParser;

/** JOB on the command line: a path to a YAML file, or a name found as {@code <config>/jobs/NAME.yml}. */
final class JobArgument {

    private JobArgument() {
    }

    /** The spec file JOB names, or null if there is none (the job may still be known by its recorded spec). */
    static Path file(String job, Path config) {
        Path direct = Path.of(job);
        if (Files.isRegularFile(direct)) {
            return direct;
        }
        if (job.endsWith(".yml") || job.endsWith(".yaml") || job.contains("/")) {
            throw new SpecException("JOB", "no spec file " + job);
        }
        for (String ext : new String[] {".yml", ".yaml"}) {
            Path named = config.resolve("jobs").resolve(job + ext);
            if (Files.isRegularFile(named)) {
                return named;
            }
        }
        return null;
    }

    /** The spec for JOB, read from its file. */
    static JobSpec read(String job, Path config) {
        Path file = file(job, config);
        if (file == null) {
            throw new SpecException("JOB", "no job spec '" + job + "' (looked for " + job + " and "
                    + config.resolve("jobs").resolve(job + ".yml") + ")");
        }
        return SpecParser.read(file);
    }

    /** The job's name: the spec's, when JOB is a file; JOB itself otherwise. */
    static String name(String job, Path config) {
        Path file = file(job, config);
        return file == null ? job : SpecParser.read(file).name();
    }
}
