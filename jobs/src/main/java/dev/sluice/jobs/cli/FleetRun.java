package dev.sluice.jobs.cli;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

import dev.sluice.engine.FleetResult;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.StopSignal;
import dev.sluice.engine.spec.FleetSpec;
import dev.sluice.engine.spec.JobSpec;

/** {@code run --fleet} and {@code resume --fleet}: the rollout of a job over a fleet, wave after wave. */
final class FleetRun {

    private FleetRun() {}

    static int rollout(
            FleetOptions fleet,
            DatabaseOptions db,
            MetricsOptions metrics,
            String job,
            JobSpec.Workers workers,
            RunOptions options)
            throws Exception {
        FleetSpec spec = fleet.spec(db);
        try (FleetOptions.Opened opened = new FleetOptions.Opened(spec, db, "sluice fleet " + spec.name())) {
            JobSpec js = FleetOptions.jobSpec(job, db, opened);
            if (workers != null) {
                js = js.withWorkers(workers);
            }
            StopSignal stop = new StopSignal();
            Signals.stopOnTermination(stop);
            List<List<String>> waves = spec.waves();
            System.out.println("sluice: rolling " + js.name() + " out on fleet " + spec.name() + ": "
                    + spec.targets().size() + " targets in " + waves.size() + " waves ("
                    + waves.stream().map(w -> String.join(", ", w)).collect(Collectors.joining(" | ")) + "), "
                    + spec.concurrency() + " at a time");
            // With --metrics-port or --push-gateway, every target's meters, labelled target=NAME.
            try (MetricsOptions.Published published = metrics.open(js.name())) {
                RunOptions wired = options.withStop(stop).withStandbys(db.standbys());
                if (published != null) {
                    published.started();
                    wired = wired.withMetrics(published.registry());
                }
                FleetResult r = opened.fleet.run(
                        js, wired, t -> System.out.println("sluice: target " + t.name() + ": " + t.message()));
                return report(r);
            }
        }
    }

    static int report(FleetResult r) {
        switch (r.outcome()) {
            case COMPLETED -> {
                System.out.println("sluice: " + r.message());
                return ExitCode.DONE;
            }
            case MISMATCHES -> {
                System.err.println("sluice: " + r.message() + "; fix it, then 'resume --fleet' continues");
                return ExitCode.MISMATCHES;
            }
            case FAILED -> {
                System.err.println("sluice: " + r.message() + "; fix it, then 'resume --fleet' continues");
                return ExitCode.FAILED;
            }
            case STOPPED -> {
                System.out.println("sluice: " + r.message() + "; 'resume --fleet' continues it");
                return ExitCode.STOPPED;
            }
            default -> {
                System.err.println("sluice: " + r.message());
                return ExitCode.NOT_RUNNABLE;
            }
        }
    }

    /** One line per target's place in the rollout, for status. */
    static String line(FleetResult.Target t) {
        return String.format(
                Locale.ROOT,
                "wave %d, rollout %s%s",
                t.wave(),
                t.state(),
                t.outcome() == null || t.outcome().equals(t.state()) ? "" : " (" + t.outcome() + ")");
    }
}
