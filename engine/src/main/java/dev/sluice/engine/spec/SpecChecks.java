package dev.sluice.engine.spec;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import org.springframework.scheduling.support.CronExpression;

/** Checks a spec can make sense before any database is asked: required fields, ranges, one mode. */
final class SpecChecks {

    private static final Pattern NAME = Pattern.compile("[a-z0-9_-]+");
    // PostgreSQL's identifier limit (NAMEDATALEN - 1): the name becomes part of the names of the job's own
    // database objects, and must fit Spring Batch's job name column with its ".validate" suffixes.
    private static final int MAX_NAME_LENGTH = 63;

    private SpecChecks() {}

    static void check(JobSpec spec) {
        checkName(spec.name());
        required("table", spec.table());
        checkKey(spec.key());
        SqlFragments.check("where", spec.where());
        checkMode(spec);
        checkSource(spec);
        checkHealth(spec.health());
        checkNotify(spec.notifications());
        checkSchedule(spec.schedule());
        checkChunk(spec.chunk());
        if (spec.parallel() < 1 || spec.parallel() > JobSpec.MAX_PARALLEL) {
            throw new SpecException(
                    "parallel", "must be between 1 and " + JobSpec.MAX_PARALLEL + ", got " + spec.parallel());
        }
        if (spec.throttle().rowsPerSecond() < 0) {
            throw new SpecException(
                    "throttle.rows-per-second",
                    "must be 0 (unlimited) or more, got " + spec.throttle().rowsPerSecond());
        }
        if (spec.throttle().validateRowsPerSecond() != null && spec.throttle().validateRowsPerSecond() < 0) {
            throw new SpecException(
                    "throttle.validate-rows-per-second",
                    "must be 0 (unlimited) or more, got " + spec.throttle().validateRowsPerSecond());
        }
        positive("timeouts.lock", spec.timeouts().lock());
        positive("timeouts.statement", spec.timeouts().statement());
        positive("timeouts.reconnect", spec.timeouts().reconnect());
        positive("health.poll", spec.health().poll());
        positive("health.replica-lag.max", spec.health().replicaLag().max());
        checkRules(spec.validate());
        checkAfter(spec);
        checkContract(spec);
    }

    private static void checkAfter(JobSpec spec) {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < spec.after().size(); i++) {
            String job = spec.after().get(i);
            String field = "after[" + i + "]";
            if (job == null || job.isBlank()) {
                throw new SpecException(field, "empty job name");
            }
            if (!NAME.matcher(job).matches() || job.length() > MAX_NAME_LENGTH) {
                throw new SpecException(
                        field,
                        "'" + job + "' is not a job name (a-z, 0-9, '_' and '-', at most " + MAX_NAME_LENGTH
                                + " characters)");
            }
            if (job.equals(spec.name())) {
                throw new SpecException(field, "the job cannot wait for itself");
            }
            if (!seen.add(job)) {
                throw new SpecException(field, "job '" + job + "' is listed twice");
            }
        }
    }

    private static void checkContract(JobSpec spec) {
        Set<String> names = new HashSet<>();
        for (int i = 0; i < spec.contract().size(); i++) {
            ContractStep step = spec.contract().get(i);
            String field = "contract[" + i + "]";
            if (step == null || step.kinds().isEmpty()) {
                throw new SpecException(
                        field, "empty step (one of not-null, index, check, foreign-key, drop-columns, rename-column)");
            }
            if (step.kinds().size() > 1) {
                throw new SpecException(
                        field,
                        "one step per entry, got "
                                + step.kinds().stream()
                                        .map(ContractStep.Kind::written)
                                        .toList()
                                + ": write each as its own '- ' item");
            }
            field += "." + step.kind().written();
            switch (step.kind()) {
                case NOT_NULL -> identifier(field, step.notNull());
                case INDEX -> checkIndex(field, step.index());
                case CHECK -> {
                    identifier(field + ".name", step.check().name());
                    required(field + ".expression", step.check().expression());
                    SqlFragments.check(field + ".expression", step.check().expression());
                }
                case FOREIGN_KEY -> checkForeignKey(field, step.foreignKey());
                case DROP_COLUMNS -> {
                    if (step.dropColumns().isEmpty()) {
                        throw new SpecException(field, "no columns (list the columns to set aside)");
                    }
                    identifiers(field, step.dropColumns());
                    for (String column : step.dropColumns()) {
                        if (spec.key().contains(column)) {
                            throw new SpecException(field, "'" + column + "' is the job's key: it cannot be dropped");
                        }
                    }
                }
                case RENAME_COLUMN -> {
                    identifier(field + ".from", step.renameColumn().from());
                    identifier(field + ".to", step.renameColumn().to());
                    if (step.renameColumn().from().equals(step.renameColumn().to())) {
                        throw new SpecException(field + ".to", "is the same name as from");
                    }
                }
            }
            String name = switch (step.kind()) {
                case INDEX -> step.index().name();
                case CHECK -> step.check().name();
                case FOREIGN_KEY -> step.foreignKey().name();
                default -> null;
            };
            if (name != null && !names.add(name)) {
                throw new SpecException(field + ".name", "'" + name + "' is the name of an earlier step too");
            }
        }
    }

    private static void checkIndex(String field, ContractStep.Index index) {
        identifier(field + ".name", index.name());
        if (index.columns().isEmpty() == (index.expression() == null)) {
            throw new SpecException(field, "write either columns or expression");
        }
        identifiers(field + ".columns", index.columns());
        if (index.expression() != null) {
            required(field + ".expression", index.expression());
            SqlFragments.check(field + ".expression", index.expression());
        }
        SqlFragments.check(field + ".where", index.where());
        identifiers(field + ".include", index.include());
    }

    private static void checkForeignKey(String field, ContractStep.ForeignKey fk) {
        identifier(field + ".name", fk.name());
        if (fk.columns().isEmpty()) {
            throw new SpecException(field + ".columns", "missing (this table's columns that reference the other)");
        }
        identifiers(field + ".columns", fk.columns());
        required(field + ".references", fk.references());
        if (fk.referencedTable().isEmpty() || fk.referencedColumns().isEmpty()) {
            throw new SpecException(
                    field + ".references",
                    "'" + fk.references() + "' is not a table and its columns, like public.customers(id)");
        }
        identifiers(field + ".references", fk.referencedColumns());
        if (fk.referencedColumns().size() != fk.columns().size()) {
            throw new SpecException(
                    field + ".references",
                    "names " + fk.referencedColumns().size() + " columns for "
                            + fk.columns().size() + " in columns");
        }
        if (fk.onDelete() != null && !ON_DELETE.contains(fk.onDelete().strip().toLowerCase(java.util.Locale.ROOT))) {
            throw new SpecException(
                    field + ".on-delete",
                    "'" + fk.onDelete() + "' is not one of no action, restrict, cascade, set null, set default");
        }
    }

    private static final Set<String> ON_DELETE = Set.of("no action", "restrict", "cascade", "set null", "set default");

    private static void identifiers(String field, List<String> names) {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < names.size(); i++) {
            identifier(field + "[" + i + "]", names.get(i));
            if (!seen.add(names.get(i))) {
                throw new SpecException(field, "'" + names.get(i) + "' is listed twice");
            }
        }
    }

    /** A name PostgreSQL keeps as written: not empty, and short enough not to be cut (63 bytes). */
    private static void identifier(String field, String name) {
        required(field, name);
        if (name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_NAME_LENGTH) {
            throw new SpecException(
                    field, "'" + name + "' is longer than PostgreSQL's names (" + MAX_NAME_LENGTH + " bytes)");
        }
        if (name.indexOf('\0') >= 0) {
            throw new SpecException(field, "contains a NUL character");
        }
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
        int modes =
                (spec.set().isEmpty() ? 0 : 1) + (spec.into() == null ? 0 : 1) + (spec.transformer() == null ? 0 : 1);
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
        if (spec.transformer() != null) {
            checkTransformer(spec.transformer());
        }
    }

    /** The parts a transformer reference can get wrong without the database; its columns and options at preflight. */
    private static void checkTransformer(TransformerSpec t) {
        if (t.name() == null || t.name().isBlank()) {
            throw new SpecException(
                    t.isShortForm() ? "transformer" : "transformer.name",
                    "missing (the name of a Java transformer, e.g. phone-e164)");
        }
        for (Map.Entry<String, String> e : t.columns().entrySet()) {
            if (e.getValue() == null || e.getValue().isBlank()) {
                throw new SpecException(
                        "transformer.columns." + e.getKey(),
                        "empty (name this table's column for the" + " transformer's column " + e.getKey() + ")");
            }
        }
        for (Map.Entry<String, String> e : t.with().entrySet()) {
            if (e.getValue() == null) {
                throw new SpecException("transformer.with." + e.getKey(), "empty (give the option a value)");
            }
        }
    }

    private static void expressions(String field, Map<String, String> map) {
        for (Map.Entry<String, String> e : map.entrySet()) {
            if (e.getValue() == null) {
                throw new SpecException(
                        field + "." + e.getKey(),
                        "no expression (inside a YAML { } mapping, a ',' ends"
                                + " the expression before it: quote an expression that holds one)");
            }
            if (e.getValue().isBlank()) {
                throw new SpecException(field + "." + e.getKey(), "empty expression");
            }
            SqlFragments.check(field + "." + e.getKey(), e.getValue());
        }
    }

    private static void checkSource(JobSpec spec) {
        if (spec.source() == null) {
            return;
        }
        JdbcUrl.checkWithoutPassword("source.jdbc-url", spec.source().jdbcUrl());
        if (spec.into() == null) {
            throw new SpecException("source", "reading from another database needs copy mode (into + columns)");
        }
    }

    private static void checkHealth(JobSpec.Health health) {
        if (health.lockWaiters().maxWait().isNegative()) {
            throw new SpecException(
                    "health.lock-waiters.max-wait",
                    "must be 0 (off) or more, got " + health.lockWaiters().maxWait());
        }
        if (health.activeSessions().max() < 0) {
            throw new SpecException(
                    "health.active-sessions.max",
                    "must be 0 (off) or more, got " + health.activeSessions().max());
        }
        if (health.query() != null) {
            if (health.query().sql() == null || health.query().sql().isBlank()) {
                throw new SpecException("health.query.sql", "is required: a query returning one number");
            }
            SqlFragments.check("health.query.sql", health.query().sql());
        }
        if (health.prometheus() != null) {
            httpUrl("health.prometheus.url", health.prometheus().url());
            if (health.prometheus().query() == null
                    || health.prometheus().query().isBlank()) {
                throw new SpecException("health.prometheus.query", "is required: a PromQL query returning one number");
            }
        }
        if (health.http() != null) {
            httpUrl("health.http.url", health.http().url());
        }
        for (int i = 0; i < health.replicas().size(); i++) {
            JdbcUrl.checkWithoutPassword(
                    "health.replicas[" + i + "]", health.replicas().get(i));
        }
        if (health.replicaLag().maxBytes() != null
                && health.replicaLag().maxBytes().bytes() == 0) {
            throw new SpecException(
                    "health.replica-lag.max-bytes", "must be more than 0 (leave it out to gate on" + " time only)");
        }
        if (health.slotLag().maxBytes().bytes() == 0) {
            throw new SpecException("health.slot-lag.max-bytes", "must be more than 0");
        }
    }

    private static void checkSchedule(JobSpec.Schedule schedule) {
        if (schedule == null) {
            return;
        }
        if (schedule.cron() == null) {
            throw new SpecException("schedule.cron", "missing (six fields: second minute hour day month weekday)");
        }
        try {
            CronExpression.parse(schedule.cron());
        } catch (IllegalArgumentException e) {
            throw new SpecException(
                    "schedule.cron",
                    "'" + schedule.cron() + "' is not a cron expression (six fields:"
                            + " second minute hour day month weekday): " + e.getMessage());
        }
        if (schedule.window() != null) {
            Window.parse(schedule.window());
        }
    }

    private static void checkChunk(JobSpec.Chunk c) {
        atLeastOne("chunk.rows", c.rows());
        atLeastOne("chunk.min-rows", c.minRows());
        atLeastOne("chunk.max-rows", c.maxRows());
        if (c.minRows() > c.maxRows()) {
            throw new SpecException(
                    "chunk.min-rows", c.minRows() + " is more than chunk.max-rows (" + c.maxRows() + ")");
        }
        if (c.rows() < c.minRows()) {
            throw new SpecException("chunk.rows", c.rows() + " is less than chunk.min-rows (" + c.minRows() + ")");
        }
        if (c.rows() > c.maxRows()) {
            throw new SpecException("chunk.rows", c.rows() + " is more than chunk.max-rows (" + c.maxRows() + ")");
        }
        positive("chunk.target", c.target());
    }

    private static void atLeastOne(String field, int value) {
        if (value < 1) {
            throw new SpecException(field, "must be at least 1, got " + value);
        }
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

    /**
     * An http or https URL with a host and no credentials in it (a secret in a spec ends up in the job repository,
     * recorded with the run).
     */
    static void httpUrl(String field, String url) {
        if (url == null || url.isBlank()) {
            throw new SpecException(field, "is required: an http:// or https:// URL");
        }
        java.net.URI uri;
        try {
            uri = new java.net.URI(url);
        } catch (java.net.URISyntaxException e) {
            throw new SpecException(field, "is not a URL: " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new SpecException(field, "must be an http:// or https:// URL, got " + Secrets.redact(url));
        }
        if (uri.getHost() == null) {
            throw new SpecException(field, "has no host: " + Secrets.redact(url));
        }
        if (uri.getRawUserInfo() != null) {
            throw new SpecException(field, "must not carry a user or password");
        }
    }

    private static final java.util.regex.Pattern ENV_NAME = java.util.regex.Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    // RFC 9110's token: what a header's name may be made of.
    private static final java.util.regex.Pattern HEADER_NAME =
            java.util.regex.Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

    // Headers Java's HTTP client sets itself and refuses to take from a caller.
    private static final Set<String> RESTRICTED_HEADERS =
            Set.of("connection", "content-length", "expect", "host", "upgrade");

    private static void checkNotify(List<JobSpec.Notify> notify) {
        for (int i = 0; i < notify.size(); i++) {
            JobSpec.Notify n = notify.get(i);
            String at = "notify[" + i + "]";
            if (n == null) {
                throw new SpecException(at, "expected a mapping: { webhook: URL, on: [events] }");
            }
            if ((n.webhook() == null) == (n.webhookEnv() == null)) {
                throw new SpecException(
                        at + ".webhook",
                        "give one of webhook (a URL) or webhook-env (the environment variable that holds it)");
            }
            if (n.webhook() != null) {
                httpUrl(at + ".webhook", n.webhook());
            } else if (!ENV_NAME.matcher(n.webhookEnv()).matches()) {
                throw new SpecException(
                        at + ".webhook-env",
                        "must be the name of the environment variable that holds the URL (letters, digits and _)");
            }
            if (n.on().isEmpty()) {
                throw new SpecException(
                        at + ".on", "is required: the events to post, of " + String.join(", ", JobSpec.Notify.EVENTS));
            }
            for (int j = 0; j < n.on().size(); j++) {
                if (!JobSpec.Notify.EVENTS.contains(n.on().get(j))) {
                    throw new SpecException(
                            at + ".on[" + j + "]",
                            "unknown event '" + n.on().get(j) + "' (known: " + String.join(", ", JobSpec.Notify.EVENTS)
                                    + ")");
                }
            }
            if (n.header() != null) {
                if (n.header().name() == null
                        || !HEADER_NAME.matcher(n.header().name()).matches()) {
                    throw new SpecException(
                            at + ".header.name",
                            "must be an HTTP header's name, got '" + n.header().name() + "'");
                }
                if (RESTRICTED_HEADERS.contains(n.header().name().toLowerCase(java.util.Locale.ROOT))) {
                    throw new SpecException(
                            at + ".header.name",
                            "'" + n.header().name()
                                    + "' is set by the HTTP client itself; use another header (Authorization, X-...)");
                }
                if (n.header().env() == null
                        || !ENV_NAME.matcher(n.header().env()).matches()) {
                    throw new SpecException(
                            at + ".header.env",
                            "must be the name of the environment variable that holds the header's value (letters, digits and _;"
                                    + " a secret is never written in a spec)");
                }
            }
            positive(at + ".held-for", n.heldFor());
        }
    }
}
