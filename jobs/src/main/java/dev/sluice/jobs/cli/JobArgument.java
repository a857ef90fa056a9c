package dev.sluice.jobs.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Optional;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.spec.AfterCycles;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.SpecParser;

/**
 * JOB on the command line: a path to a YAML file, a name found as {@code <config>/jobs/NAME.yml}, or the name of a
 * job that has run on the database, whose spec was recorded when it started.
 */
final class JobArgument {

    private JobArgument() {}

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

    /** The spec for JOB, read from its file; for commands that must have one (nothing recorded yet). */
    static JobSpec read(String job, Path config) {
        Path file = file(job, config);
        if (file == null) {
            throw new SpecException(
                    "JOB",
                    "no job spec '" + job + "' (looked for " + job + " and "
                            + config.resolve("jobs").resolve(job + ".yml") + ")");
        }
        return SpecParser.read(file);
    }

    /**
     * The spec for JOB: its file if there is one, else the spec recorded when a job of that name last started,
     * checked again as a file would be.
     *
     * @throws SpecException (exit 2) if there is neither
     */
    static JobSpec spec(String job, DatabaseOptions db) {
        db.check();
        if (file(job, db.config()) != null) {
            JobSpec spec = read(job, db.config());
            afterCycles(spec, db.config());
            return spec;
        }
        return recorded(job, db)
                .map(r -> SpecParser.parse(SpecParser.toYaml(r)))
                .orElseThrow(() -> unknown(job, db));
    }

    /**
     * Refuses jobs that wait for each other in a cycle among the specs under {@code config/jobs} (the database's
     * recorded specs are asked too, when the job starts); a file there that does not read is another job's problem.
     */
    private static void afterCycles(JobSpec spec, Path config) {
        if (spec.after().isEmpty()) {
            return;
        }
        try {
            AfterCycles.refuse(spec, name -> {
                Path file = file(name, config);
                if (file == null) {
                    return Optional.empty();
                }
                try {
                    return Optional.of(SpecParser.read(file));
                } catch (SpecException unreadable) {
                    return Optional.empty();
                }
            });
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The job's name as JOB gives it: a spec file's name, else JOB itself (for commands about a job's records, which
     * may outlive its spec: {@code history}, {@code forget}).
     */
    static String recordName(String job, DatabaseOptions db) {
        db.check();
        Path file = file(job, db.config());
        return file != null ? SpecParser.read(file).name() : job;
    }

    /** The job's name, after making sure JOB is a spec or a job the database knows. */
    static String name(String job, DatabaseOptions db) {
        db.check();
        Path file = file(job, db.config());
        if (file != null) {
            return SpecParser.read(file).name();
        }
        if (recorded(job, db).isEmpty()) {
            throw unknown(job, db);
        }
        return job;
    }

    private static Optional<JobSpec> recorded(String job, DatabaseOptions db) {
        if (db.url() == null) {
            return Optional.empty(); // no database to look in; the message names the spec files looked for
        }
        try (HikariDataSource ds = db.open("sluice " + job)) {
            return db.backfill(ds).recordedSpec(job);
        } catch (SQLException e) {
            throw new DatabaseUnavailableException("cannot read job " + job + ": " + e.getMessage(), e);
        }
    }

    private static SpecException unknown(String job, DatabaseOptions db) {
        return new SpecException(
                "JOB",
                "no job spec '" + job + "' (looked for " + job + " and "
                        + db.config().resolve("jobs").resolve(job + ".yml") + ") and no job of that name has run on "
                        + db.describe());
    }
}
