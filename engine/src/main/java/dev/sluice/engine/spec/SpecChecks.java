package dev.sluice.engine.spec;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Checks a spec can make sense before any database is asked: required fields, ranges, one mode. */
final class SpecChecks {

    private static final Pattern NAME = Pattern.compile("[a-z0-9_-]+");
    // Spring Batch stores the job name in a VARCHAR(100).
    private static final int MAX_NAME_LENGTH = 100;

    private SpecChecks() {
    }

    static void check(JobSpec spec) {
        checkName(spec.name());
        required("table", spec.table());
        checkKey(spec.key());
        SqlFragments.check("where", spec.where());
        checkMode(spec);
        checkSource(spec);
        checkChunk(spec.chunk());
        if (spec.throttle().rowsPerSecond() < 0) {
            throw new SpecException("throttle.rows-per-second", "must be 0 (unlimited) or more, got " + spec.throttle().rowsPerSecond());
        }
        positive("timeouts.lock", spec.timeouts().lock());
        positive("timeouts.statement", spec.timeouts().statement());
        positive("health.poll", spec.health().poll());
        positive("health.replica-lag.max", spec.health().replicaLag().max());
        checkRules(spec.validate());
    }

    private static void checkName(String name) {
        required("name", name);
        if (!NAME.matcher(name).matches()) {
            throw new SpecException("name", "'" + name + "' may use only a-z, 0-9, '_' and '-'");
        }
        if (name.length() > MAX_NAME_LENGTH) {
            throw new SpecException("name", "longer than " + MAX_NAME_LENGTH + " characters");
        }
    }

    private static void checkKey(List<String> key) {
        if (key.isEmpty()) {
            throw new SpecException("key", "missing (list the columns of a unique NOT NULL key, e.g. [id])");
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < key.size(); i++) {
            String column = key.get(i);
            if (column == null || column.isBlank()) {
                throw new SpecException("key[" + i + "]", "empty column name");
            }
            if (!seen.add(column)) {
                throw new SpecException("key", "column '" + column + "' is listed twice");
            }
        }
    }

    private static void checkMode(JobSpec spec) {
        int modes = (spec.set().isEmpty() ? 0 : 1) + (spec.into() == null ? 0 : 1) + (spec.transformer() == null ? 0 : 1);
        if (modes == 0) {
            throw new SpecException("set", "missing (say what to write: set, into + columns, or transformer)");
        }
        if (modes > 1) {
            throw new SpecException("set", "choose one of set, into + columns, or transformer");
        }
        if (spec.into() != null && spec.columns().isEmpty()) {
            throw new SpecException("columns", "missing (copy mode maps target columns to source expressions)");
        }
        if (spec.into() == null && !spec.columns().isEmpty()) {
            throw new SpecException("columns", "only used with into");
        }
        expressions("set", spec.set());
        expressions("columns", spec.columns());
    }

    private static void expressions(String field, Map<String, String> map) {
        for (Map.Entry<String, String> e : map.entrySet()) {
            if (e.getValue() == null || e.getValue().isBlank()) {
                throw new SpecException(field + "." + e.getKey(), "empty expression");
            }
            SqlFragments.check(field + "." + e.getKey(), e.getValue());
        }
    }

    private static void checkSource(JobSpec spec) {
        if (spec.source() == null) {
            return;
        }
        String url = spec.source().jdbcUrl();
        if (url == null || !url.startsWith("jdbc:postgresql:")) {
            throw new SpecException("source.jdbc-url", "give the source database as jdbc:postgresql://host:port/db");
        }
        if (url.toLowerCase(java.util.Locale.ROOT).contains("password=")) {
            throw new SpecException("source.jdbc-url", "must not carry a password (specs are recorded with the job);"
                    + " set SLUICE_SOURCE_PASSWORD instead");
        }
        if (spec.into() == null) {
            throw new SpecException("source", "reading from another database needs copy mode (into + columns)");
        }
    }

    private static void checkChunk(JobSpec.Chunk c) {
        if (c.minRows() < 1) {
            throw new SpecException("chunk.min-rows", "must be at least 1, got " + c.minRows());
        }
        if (c.rows() < c.minRows() || c.rows() > c.maxRows()) {
            throw new SpecException("chunk.rows", c.rows() + " is outside [min-rows, max-rows] = [" + c.minRows() + ", " + c.maxRows() + "]");
        }
        positive("chunk.target", c.target());
    }

    private static void checkRules(List<JobSpec.ValidationRule> rules) {
        for (int i = 0; i < rules.size(); i++) {
            JobSpec.ValidationRule r = rules.get(i);
            String field = "validate[" + i + "]";
            if (r == null) {
                throw new SpecException(field, "empty rule");
            }
            boolean compare = r.target() != null || r.source() != null;
            if (compare == (r.check() != null)) {
                throw new SpecException(field, "write either {target, source} or {check}");
            }
            if (compare && (r.target() == null || r.source() == null)) {
                throw new SpecException(field, "a comparison needs both target and source");
            }
            SqlFragments.check(field + ".source", r.source());
            SqlFragments.check(field + ".check", r.check());
        }
    }

    private static void required(String field, String value) {
        if (value == null || value.isBlank()) {
            throw new SpecException(field, "missing");
        }
    }

    private static void positive(String field, Duration d) {
        if (d.isNegative() || d.isZero()) {
            throw new SpecException(field, "must be longer than 0");
        }
    }
}
