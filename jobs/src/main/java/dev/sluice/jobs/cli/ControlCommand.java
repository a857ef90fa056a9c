package dev.sluice.jobs.cli;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.Callable;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.ControlRequest;
import dev.sluice.engine.spec.Durations;
import dev.sluice.engine.spec.SpecException;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pause}, {@code cancel} and {@code tune}: requests to a running job from any process that reaches the
 * database. The runner takes them within a chunk; these commands wait for that (up to {@code --wait}).
 */
abstract class ControlCommand implements Callable<Integer> {

    @Parameters(paramLabel = "JOB", description = "a job name or a path to its spec")
    String job;

    @Option(
            names = "--wait",
            defaultValue = "30s",
            paramLabel = "D",
            description = "how long to wait for the runner to take the request (default: ${DEFAULT-VALUE})")
    String wait;

    @Mixin
    DatabaseOptions db;

    abstract ControlRequest request();

    @Mixin
    FleetOptions fleet = new FleetOptions();

    @Override
    public Integer call() throws Exception {
        Duration waitFor = parse("--wait", wait);
        ControlRequest request = request(); // bad input is refused before anything is read or written
        if (fleet.given()) {
            String name = FleetOptions.jobName(job, db);
            return fleet.each(db, "sluice control " + name, false, false, (target, backfill) -> {
                Backfill.ControlResult r = backfill.control(name, request, waitFor, operator());
                if (!r.ok()) {
                    System.err.println("sluice: " + target + ": " + Said.control(r));
                    return ExitCode.NOT_RUNNABLE;
                }
                System.out.println(Said.control(r));
                return ExitCode.DONE;
            });
        }
        String name = JobArgument.name(job, db);
        try (HikariDataSource ds = db.open("sluice control " + name)) {
            Backfill.ControlResult r = db.backfill(ds).control(name, request, waitFor, operator());
            if (!r.ok()) {
                System.err.println("sluice: " + Said.control(r));
                return ExitCode.NOT_RUNNABLE;
            }
            System.out.println(Said.control(r));
            return ExitCode.DONE;
        }
    }

    /** Who asks, as recorded with a request: the operating-system user at this host. */
    static String operator() throws UnknownHostException {
        return System.getProperty("user.name", "?") + "@"
                + InetAddress.getLocalHost().getHostName();
    }

    static Duration parse(String option, String text) {
        try {
            return Durations.parse(text);
        } catch (IllegalArgumentException e) {
            throw new SpecException(option, e.getMessage());
        }
    }

    /** {@code sluice pause JOB}. */
    @Command(
            name = "pause",
            mixinStandardHelpOptions = true,
            description = "Pause a running job after its current chunk; 'resume' continues it.")
    static final class Pause extends ControlCommand {
        @Override
        ControlRequest request() {
            return ControlRequest.pause();
        }
    }

    /** {@code sluice cancel JOB}. */
    @Command(
            name = "cancel",
            mixinStandardHelpOptions = true,
            description = "Stop a job after its current chunk for good; it will not resume.")
    static final class Cancel extends ControlCommand {
        @Override
        ControlRequest request() {
            return ControlRequest.cancel();
        }
    }

    /** {@code sluice tune JOB --rows-per-second N --chunk-target D}. */
    @Command(
            name = "tune",
            mixinStandardHelpOptions = true,
            description = "Change the throttle of a running job, from its next chunk on.")
    static final class Tune extends ControlCommand {
        @Option(names = "--rows-per-second", paramLabel = "N", description = "new rate limit (0 = unlimited)")
        Long rowsPerSecond;

        @Option(names = "--chunk-target", paramLabel = "D", description = "new target chunk duration, e.g. 250ms")
        String chunkTarget;

        @Override
        ControlRequest request() {
            if (rowsPerSecond == null && chunkTarget == null) {
                throw new SpecException("tune", "give --rows-per-second and/or --chunk-target");
            }
            if (rowsPerSecond != null && rowsPerSecond < 0) {
                throw new SpecException("--rows-per-second", "must be 0 (unlimited) or more");
            }
            Duration target = chunkTarget == null ? null : parse("--chunk-target", chunkTarget);
            if (target != null && target.isZero()) {
                throw new SpecException("--chunk-target", "must be longer than 0");
            }
            return ControlRequest.tune(rowsPerSecond, target);
        }
    }
}
