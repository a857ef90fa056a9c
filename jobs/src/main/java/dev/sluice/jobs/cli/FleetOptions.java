package dev.sluice.jobs.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.Fleet;
import dev.sluice.engine.spec.FleetSpec;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.SpecParser;

import picocli.CommandLine.Option;

/**
 * {@code --fleet NAME}: the command applies to every target of a fleet ({@code <config>/fleets/NAME.yml}, or a path
 * to a fleet file), each target's job in that target's database, instead of to one database.
 */
public final class FleetOptions {

    @Option(
            names = "--fleet",
            paramLabel = "NAME",
            description = "apply to every target of the fleet DIR/fleets/NAME.yml (or a fleet file's path), each in its"
                    + " own database; passwords: --password, SLUICE_PASSWORD_<TARGET>, or SLUICE_PASSWORD")
    String fleet;

    /** Whether {@code --fleet} was given. */
    public boolean given() {
        return fleet != null;
    }

    /** The fleet file, checked; and a {@code --jdbc-url} beside it refused (which database would it be?). */
    FleetSpec spec(DatabaseOptions db) {
        db.check();
        FleetSpec spec = read(db.config());
        if (db.jdbcUrl != null) {
            throw new SpecException("--fleet", "give either --fleet or --jdbc-url: a fleet names its databases");
        }
        return spec;
    }

    private FleetSpec read(Path config) {
        Path direct = Path.of(fleet);
        if (Files.isRegularFile(direct)) {
            return SpecParser.readFleet(direct);
        }
        for (String ext : new String[] {".yml", ".yaml"}) {
            Path named = config.resolve("fleets").resolve(fleet + ext);
            if (Files.isRegularFile(named)) {
                return SpecParser.readFleet(named);
            }
        }
        throw new SpecException(
                "--fleet",
                "no fleet '" + fleet + "' (looked for " + fleet + " and "
                        + config.resolve("fleets").resolve(fleet + ".yml") + ")");
    }

    /** The job JOB names: its spec file's name, else JOB itself (a job recorded in the targets' databases). */
    static String jobName(String job, DatabaseOptions db) {
        Path file = JobArgument.file(job, db.config());
        return file == null ? job : SpecParser.read(file).name();
    }

    /** The fleet's databases, opened: a pool and a Backfill per target, and the coordinator's. */
    static final class Opened implements AutoCloseable {
        final FleetSpec spec;
        final Map<String, Backfill> backfills = new LinkedHashMap<>();
        final Fleet fleet;
        private final List<HikariDataSource> pools = new ArrayList<>();

        Opened(FleetSpec spec, DatabaseOptions db, String application) {
            this.spec = spec;
            HikariDataSource coordinator = null;
            try {
                for (FleetSpec.Target t : spec.targets()) {
                    HikariDataSource ds = db.openTarget(t.name(), t.jdbcUrl(), t.user(), application);
                    pools.add(ds);
                    backfills.put(t.name(), db.backfill(ds));
                    if (coordinator == null
                            && t.jdbcUrl().equals(spec.coordinatorUrl())
                            && (spec.coordinator() == null
                                    || spec.coordinator().user() == null
                                    || spec.coordinator().user().equals(t.user()))) {
                        coordinator = ds;
                    }
                }
                if (coordinator == null) {
                    coordinator = db.openTarget(
                            "coordinator",
                            spec.coordinatorUrl(),
                            spec.coordinator() == null
                                    ? null
                                    : spec.coordinator().user(),
                            application);
                    pools.add(coordinator);
                }
            } catch (RuntimeException e) {
                close();
                throw e;
            }
            this.fleet = new Fleet(spec, coordinator, db.schema(), backfills);
        }

        @Override
        public void close() {
            for (Backfill b : backfills.values()) {
                b.close();
            }
            for (HikariDataSource ds : pools) {
                ds.close();
            }
        }
    }

    /** What a command does on one target's database. */
    @FunctionalInterface
    interface OnTarget {
        int on(String target, Backfill backfill) throws Exception;
    }

    /**
     * Applies a command to every target, in rollout order (or the reverse), each under a line naming it; the exit code
     * is the first target's that was not 0.
     *
     * @param stopAtFirst whether the targets after the first that did not succeed are left (a rollback, a finish)
     */
    int each(DatabaseOptions db, String application, boolean reverse, boolean stopAtFirst, OnTarget command)
            throws Exception {
        FleetSpec spec = spec(db);
        try (Opened opened = new Opened(spec, db, application)) {
            List<List<String>> waves = spec.waves();
            List<String> order = new ArrayList<>();
            waves.forEach(order::addAll);
            if (reverse) {
                java.util.Collections.reverse(order);
            }
            int code = ExitCode.DONE;
            for (String target : order) {
                System.out.println("== " + target + " (fleet " + spec.name() + ")");
                int c;
                try {
                    c = command.on(target, opened.backfills.get(target));
                } catch (SpecException e) {
                    System.err.println("sluice: " + target + ": " + e.getMessage());
                    c = ExitCode.BAD_INPUT;
                } catch (java.sql.SQLException | DatabaseUnavailableException e) {
                    System.err.println("sluice: " + target + ": cannot reach its database: "
                            + dev.sluice.engine.spec.JdbcUrl.mask(String.valueOf(e.getMessage())));
                    c = ExitCode.FAILED;
                }
                if (code == ExitCode.DONE) {
                    code = c;
                }
                if (c != ExitCode.DONE && stopAtFirst) {
                    System.err.println("sluice: stopped at target " + target + "; the targets after it are left");
                    break;
                }
            }
            return code;
        }
    }

    /** JOB's spec for a fleet: its file, else the spec recorded with the job in the first target that ran it. */
    static JobSpec jobSpec(String job, DatabaseOptions db, Opened opened) throws Exception {
        Path file = JobArgument.file(job, db.config());
        if (file != null) {
            return SpecParser.read(file);
        }
        for (Backfill b : opened.backfills.values()) {
            var recorded = b.recordedSpec(job);
            if (recorded.isPresent()) {
                return SpecParser.parse(SpecParser.toYaml(recorded.get()));
            }
        }
        throw new SpecException(
                "JOB",
                "no job spec '" + job + "' (looked for " + job + " and "
                        + db.config().resolve("jobs").resolve(job + ".yml") + ") and no job of that name has run on"
                        + " fleet " + opened.spec.name());
    }
}
