package dev.sluice.engine.spec;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.annotation.JsonValue;

/**
 * A fleet: the same job on many databases (shards, tenants, regions), rolled out in waves ({@code
 * config/fleets/NAME.yml}). Checked whoever builds it: names, URLs without passwords, waves that grow to the whole
 * fleet.
 *
 * @param targets     the databases, in rollout order (the canary first)
 * @param coordinator where the rollout's record lives (default: the first target)
 * @param rollout     the waves, the pause between them, what halts the rollout
 * @param concurrency how many targets are worked at once within a wave
 */
public record FleetSpec(
        String name, List<Target> targets, Coordinator coordinator, Rollout rollout, Integer concurrency) {

    private static final Pattern NAME = Pattern.compile("[a-z0-9_-]+");
    private static final Pattern PERCENT = Pattern.compile("(\\d{1,3})%");
    private static final int MAX_NAME_LENGTH = 63;
    /** The most targets a fleet works at once. */
    public static final int MAX_CONCURRENCY = 64;

    public FleetSpec {
        if (name == null || !NAME.matcher(name).matches() || name.length() > MAX_NAME_LENGTH) {
            throw new SpecException(
                    "name",
                    "must be 1 to 63 of a-z, 0-9, _ and -, got " + (name == null ? "nothing" : "'" + name + "'"));
        }
        if (targets == null || targets.isEmpty()) {
            throw new SpecException("targets", "list at least one target: { name: ..., jdbc-url: ... }");
        }
        targets = List.copyOf(targets);
        Set<String> seen = new HashSet<>();
        Set<String> variables = new HashSet<>();
        for (int i = 0; i < targets.size(); i++) {
            Target t = targets.get(i);
            String field = "targets[" + i + "]";
            if (t == null) {
                throw new SpecException(field, "missing");
            }
            if (t.name() == null
                    || !NAME.matcher(t.name()).matches()
                    || t.name().length() > MAX_NAME_LENGTH) {
                throw new SpecException(field + ".name", "must be 1 to 63 of a-z, 0-9, _ and -");
            }
            if (!seen.add(t.name())) {
                throw new SpecException(field + ".name", "'" + t.name() + "' is listed twice");
            }
            if (!variables.add(passwordVariable(t.name()))) {
                throw new SpecException(
                        field + ".name",
                        "'" + t.name() + "' takes its password from " + passwordVariable(t.name())
                                + ", as another target does: give the targets names that differ in more than - and _");
            }
            JdbcUrl.checkWithoutPassword(field + ".jdbc-url", t.jdbcUrl());
        }
        if (coordinator != null) {
            JdbcUrl.checkWithoutPassword("coordinator.jdbc-url", coordinator.jdbcUrl());
        }
        rollout = rollout == null ? new Rollout(null, null, null, null) : rollout;
        concurrency = concurrency == null ? 1 : concurrency;
        if (concurrency < 1 || concurrency > MAX_CONCURRENCY) {
            throw new SpecException("concurrency", "must be between 1 and " + MAX_CONCURRENCY + ", got " + concurrency);
        }
    }

    /** A database of the fleet. No password: {@code --password}, {@code SLUICE_PASSWORD_<NAME>}, or SLUICE_PASSWORD. */
    public record Target(String name, String jdbcUrl, String user) {}

    /** Where the rollout's record lives. */
    public record Coordinator(String jdbcUrl, String user) {}

    /** What stops a rollout at once. */
    public enum HaltOn {
        FAILED,
        MISMATCHES;

        @JsonValue
        public String written() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * The waves: the first {@code canary} targets alone, then each wave up to a share of the fleet (cumulative:
     * {@code [25%, 100%]} is a quarter, then the rest), with a pause between them.
     *
     * @param haltOn what stops the rollout at once (the other targets of the wave are paused after their chunk);
     *               whatever a target comes to, the next wave starts only once every target before it is done and
     *               validated clean
     */
    public record Rollout(Integer canary, List<String> waves, Duration pauseBetween, List<HaltOn> haltOn) {
        public Rollout {
            canary = canary == null ? 1 : canary;
            if (canary < 0) {
                throw new SpecException("rollout.canary", "must be 0 or more, got " + canary);
            }
            waves = waves == null || waves.isEmpty() ? List.of("100%") : List.copyOf(waves);
            int last = 0;
            for (int i = 0; i < waves.size(); i++) {
                Matcher m =
                        PERCENT.matcher(waves.get(i) == null ? "" : waves.get(i).strip());
                int share = m.matches() ? Integer.parseInt(m.group(1)) : -1;
                if (share < 1 || share > 100) {
                    throw new SpecException(
                            "rollout.waves[" + i + "]",
                            "must be a share of the fleet from 1% to 100%, got '" + waves.get(i) + "'");
                }
                if (share <= last) {
                    throw new SpecException("rollout.waves[" + i + "]", "must be larger than the wave before");
                }
                last = share;
            }
            pauseBetween = pauseBetween == null ? Duration.ZERO : pauseBetween;
            haltOn = haltOn == null ? List.of(HaltOn.FAILED, HaltOn.MISMATCHES) : List.copyOf(haltOn);
        }
    }

    /** The environment variable that holds target {@code name}'s password: {@code SLUICE_PASSWORD_<NAME>}. */
    public static String passwordVariable(String name) {
        return "SLUICE_PASSWORD_" + name.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
    }

    /** Where the rollout's record lives: the coordinator's URL, or the first target's. */
    public String coordinatorUrl() {
        return coordinator == null ? targets.get(0).jdbcUrl() : coordinator.jdbcUrl();
    }

    /** The target named {@code name}. */
    public Target target(String name) {
        return targets.stream()
                .filter(t -> t.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new SpecException("--target", "fleet " + this.name + " has no target " + name));
    }

    /**
     * The waves, as the targets' names in order: the canary first (if any), then each share of the fleet not yet
     * rolled out; a wave that would add no target is left out, and the last wave always takes the rest.
     */
    public List<List<String>> waves() {
        List<String> names = targets.stream().map(Target::name).toList();
        List<List<String>> out = new ArrayList<>();
        int done = Math.min(rollout.canary(), names.size());
        if (done > 0) {
            out.add(names.subList(0, done));
        }
        List<String> shares = new ArrayList<>(rollout.waves());
        for (int i = 0; i < shares.size(); i++) {
            int share = Integer.parseInt(shares.get(i).strip().replace("%", ""));
            int upTo = i == shares.size() - 1
                    ? names.size()
                    : Math.min(names.size(), (int) Math.ceil(names.size() * share / 100.0));
            if (upTo > done) {
                out.add(names.subList(done, upTo));
                done = upTo;
            }
        }
        return List.copyOf(out);
    }
}
