package dev.sluice.engine.spec;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * One backfill, as written in its YAML file. A value: parsing and structural checks live in {@link SpecParser};
 * checks against the database live in the {@code preflight} package.
 *
 * <p>The semantic fields ({@link Semantics}) decide what the job writes; changing them under an unfinished job
 * would mix two transformations in one table, so resuming refuses it. The tuning fields (chunk, throttle, health,
 * timeouts) may change between runs.
 */
public record JobSpec(
        String name,
        String table,
        List<String> key,
        String where,
        Map<String, String> set,
        String into,
        Map<String, String> columns,
        TransformerSpec transformer,
        Source source,
        Sync sync,
        Boolean undo,
        Chunk chunk,
        Integer parallel,
        Throttle throttle,
        Health health,
        Timeouts timeouts,
        List<ValidationRule> validate,
        Boolean validateAfterRun,
        Schedule schedule,
        List<String> after,
        List<ContractStep> contract,
        Workers workers,
        @JsonProperty("notify") List<Notify> notifications) {

    /**
     * The spec, its defaults filled in, checked: a spec that does not make sense (a missing field, a value out of
     * range, no mode or two) cannot be made, whoever builds it (the parser, code, a Spring bean).
     *
     * @throws SpecException naming the field at fault
     */
    public JobSpec(
            String name,
            String table,
            List<String> key,
            String where,
            Map<String, String> set,
            String into,
            Map<String, String> columns,
            TransformerSpec transformer,
            Source source,
            Sync sync,
            Boolean undo,
            Chunk chunk,
            Integer parallel,
            Throttle throttle,
            Health health,
            Timeouts timeouts,
            List<ValidationRule> validate,
            Boolean validateAfterRun,
            Schedule schedule,
            List<String> after,
            List<ContractStep> contract,
            Workers workers,
            List<Notify> notifications) {
        this.name = name;
        this.table = table;
        this.key = key == null ? List.of() : List.copyOf(key);
        this.where = where;
        this.set = set == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(set));
        this.into = into;
        this.columns = columns == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(columns));
        this.transformer = transformer;
        this.source = source;
        this.sync = sync == null ? Sync.NONE : sync;
        this.undo = undo == null ? Boolean.TRUE : undo;
        this.chunk = chunk == null ? new Chunk(null, null, null, null) : chunk;
        this.parallel = parallel == null ? 1 : parallel;
        this.throttle = throttle == null ? new Throttle(null, null, null, null) : throttle;
        this.health = health == null ? new Health(null, null, null, null, null, null, null, null, null, null) : health;
        this.timeouts = timeouts == null ? new Timeouts(null, null, null) : timeouts;
        this.validate = validate == null ? List.of() : List.copyOf(validate);
        this.validateAfterRun = validateAfterRun == null ? Boolean.TRUE : validateAfterRun;
        this.schedule = schedule;
        this.after =
                after == null ? List.of() : java.util.Collections.unmodifiableList(new java.util.ArrayList<>(after));
        this.contract = contract == null
                ? List.of()
                : java.util.Collections.unmodifiableList(new java.util.ArrayList<>(contract));
        this.workers = workers == null ? Workers.LOCAL : workers;
        this.notifications = notifications == null ? List.of() : List.copyOf(notifications);
        SpecChecks.check(this);
    }

    /** A spec that notifies nobody (the fields of 0.3). */
    public JobSpec(
            String name,
            String table,
            List<String> key,
            String where,
            Map<String, String> set,
            String into,
            Map<String, String> columns,
            TransformerSpec transformer,
            Source source,
            Sync sync,
            Boolean undo,
            Chunk chunk,
            Integer parallel,
            Throttle throttle,
            Health health,
            Timeouts timeouts,
            List<ValidationRule> validate,
            Boolean validateAfterRun,
            Schedule schedule,
            List<String> after,
            List<ContractStep> contract,
            Workers workers) {
        this(
                name,
                table,
                key,
                where,
                set,
                into,
                columns,
                transformer,
                source,
                sync,
                undo,
                chunk,
                parallel,
                throttle,
                health,
                timeouts,
                validate,
                validateAfterRun,
                schedule,
                after,
                contract,
                workers,
                null);
    }

    /** A spec whose partitions run here ({@code workers: local}, the fields of 0.2). */
    public JobSpec(
            String name,
            String table,
            List<String> key,
            String where,
            Map<String, String> set,
            String into,
            Map<String, String> columns,
            TransformerSpec transformer,
            Source source,
            Sync sync,
            Boolean undo,
            Chunk chunk,
            Integer parallel,
            Throttle throttle,
            Health health,
            Timeouts timeouts,
            List<ValidationRule> validate,
            Boolean validateAfterRun,
            Schedule schedule,
            List<String> after,
            List<ContractStep> contract) {
        this(
                name,
                table,
                key,
                where,
                set,
                into,
                columns,
                transformer,
                source,
                sync,
                undo,
                chunk,
                parallel,
                throttle,
                health,
                timeouts,
                validate,
                validateAfterRun,
                schedule,
                after,
                contract,
                null);
    }

    /** A spec without {@code after} and {@code contract} (the fields of 0.1). */
    public JobSpec(
            String name,
            String table,
            List<String> key,
            String where,
            Map<String, String> set,
            String into,
            Map<String, String> columns,
            TransformerSpec transformer,
            Source source,
            Sync sync,
            Boolean undo,
            Chunk chunk,
            Integer parallel,
            Throttle throttle,
            Health health,
            Timeouts timeouts,
            List<ValidationRule> validate,
            Boolean validateAfterRun,
            Schedule schedule) {
        this(
                name,
                table,
                key,
                where,
                set,
                into,
                columns,
                transformer,
                source,
                sync,
                undo,
                chunk,
                parallel,
                throttle,
                health,
                timeouts,
                validate,
                validateAfterRun,
                schedule,
                null,
                null);
    }

    /**
     * The most key-range partitions a job may work at once. Each holds a connection and a core of the database
     * while its chunk runs; past a few per core they only queue on the same CPUs and WAL (see docs/scaling.md).
     */
    public static final int MAX_PARALLEL = 32;

    /**
     * Where a job's partitions run: on threads of the runner ({@code local}), or taken by {@code sluice worker}
     * processes from the job's database ({@code remote}; the runner keeps the job's lock and split, and waits).
     */
    public enum Workers {
        LOCAL,
        REMOTE;

        @JsonValue
        public String written() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The same job, its partitions run by {@code workers}: {@code run --workers} over the spec's own. */
    public JobSpec withWorkers(Workers workers) {
        return new JobSpec(
                name,
                table,
                key,
                where,
                set,
                into,
                columns,
                transformer,
                source,
                sync,
                undo,
                chunk,
                parallel,
                throttle,
                health,
                timeouts,
                validate,
                validateAfterRun,
                schedule,
                after,
                contract,
                workers,
                notifications);
    }

    /** How the job writes. */
    public enum Mode {
        IN_PLACE,
        COPY,
        JAVA
    }

    /**
     * Whether rows the application writes behind the checkpoint are kept in step: {@code none}, or {@code trigger}
     * (a trigger installed before the first chunk, kept until {@code finish}).
     */
    public enum Sync {
        NONE,
        TRIGGER;

        @JsonValue
        public String written() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What the spec writes: in place, a copy (from this database or another), or through a Java transformer. */
    public Writes writes() {
        if (into != null) {
            return source != null
                    ? new Writes.CrossDatabaseCopy(into, columns, source)
                    : new Writes.Copy(into, columns);
        }
        return transformer != null ? new Writes.Java(transformer) : new Writes.InPlace(set);
    }

    /**
     * The table the {@code contract} changes: the one the job writes ({@code into} for a copy, in the target database),
     * else {@code table}.
     */
    public String contractTable() {
        return into != null ? into : table;
    }

    /** The kind of {@link #writes()}. */
    public Mode mode() {
        return writes().mode();
    }

    /**
     * The fields that decide what is written. Changing them under an unfinished job would mix two transformations
     * in one table, so resuming refuses it; the other fields are tuning and may change between runs.
     */
    public record Semantics(
            String table,
            List<String> key,
            String where,
            Map<String, String> set,
            String into,
            Map<String, String> columns,
            Object transformer,
            String source,
            Sync sync,
            boolean undo) {

        /** A digest of the fields; equal digests mean resuming is safe. */
        public String digest() {
            try {
                byte[] hash = MessageDigest.getInstance("SHA-256")
                        .digest(asMap().toString().getBytes(StandardCharsets.UTF_8));
                return HexFormat.of().formatHex(hash, 0, 16);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-256 is part of every JRE", e);
            }
        }

        /** The names of the fields (as written in a spec) whose values differ from {@code other}'s. */
        public List<String> changedFrom(Semantics other) {
            Map<String, Object> mine = asMap();
            Map<String, Object> theirs = other.asMap();
            return mine.keySet().stream()
                    .filter(k -> !Objects.equals(mine.get(k), theirs.get(k)))
                    .toList();
        }

        private Map<String, Object> asMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("table", table);
            m.put("key", key);
            m.put("where", where);
            m.put("set", set);
            m.put("into", into);
            m.put("columns", columns);
            m.put("transformer", transformer);
            m.put("source", source);
            // Absent from the digests of jobs recorded before sync existed (none), so that those still resume.
            if (sync != Sync.NONE) {
                m.put("sync", sync);
            }
            if (!undo) {
                m.put("undo", false); // likewise: the default leaves the digests of earlier jobs as they were
            }
            return m;
        }
    }

    public Semantics semantics() {
        return new Semantics(
                table,
                key,
                where,
                set,
                into,
                columns,
                transformer == null ? null : transformer.digestForm(),
                source == null ? null : source.jdbcUrl(),
                sync,
                undo);
    }

    /** A digest of the fields that decide what is written; equal digests mean resuming is safe. */
    public String semanticDigest() {
        return semantics().digest();
    }

    /**
     * This job as it writes (its semantic fields, its validation), run as {@code tuning} says: its chunk sizing,
     * parallel, throttle, health signals, timeouts and schedule, and its {@code after} and {@code contract} (finish runs
     * the contract of the spec file an operator gives it). A rollback restores with the spec the journal was written
     * with, at the pace of the spec file an operator gives it.
     */
    public JobSpec tunedBy(JobSpec tuning) {
        return new JobSpec(
                name,
                table,
                key,
                where,
                set,
                into,
                columns,
                transformer,
                source,
                sync,
                undo,
                tuning.chunk,
                tuning.parallel,
                tuning.throttle,
                tuning.health,
                tuning.timeouts,
                validate,
                validateAfterRun,
                tuning.schedule,
                tuning.after,
                tuning.contract,
                tuning.workers,
                tuning.notifications);
    }

    /**
     * The rules that say how to repair what they find: {@code {target, source}} comparisons of a column of
     * {@code set} (a repair writes again the rows where the target differs from its source).
     */
    public List<ValidationRule> repairRules() {
        return validate.stream()
                .filter(r -> r.check() == null && set.containsKey(r.target()))
                .toList();
    }

    /**
     * The same job, writing only the rows {@code filter} selects: a repair, which installs no trigger of its own (the
     * job's, if it has one, is already there).
     */
    public JobSpec forRepair(String filter) {
        return new JobSpec(
                name,
                table,
                key,
                filter,
                set,
                into,
                columns,
                transformer,
                source,
                Sync.NONE,
                undo,
                chunk,
                parallel,
                throttle,
                health,
                timeouts,
                validate,
                validateAfterRun,
                schedule,
                after,
                contract,
                workers,
                notifications);
    }

    /**
     * Where and when to tell people: {@code webhook} (or the URL in the environment variable {@code webhookEnv}, for a
     * URL that is itself a secret, as Slack's are) receives a JSON POST, with a Slack-compatible {@code text}, on each
     * event of {@code on}; {@code header}, a header whose value comes from an environment variable (a token); {@code
     * heldFor}, how long the job must be held back before {@code held} is said.
     */
    public record Notify(String webhook, String webhookEnv, List<String> on, Header header, Duration heldFor) {
        /** The events a notification can be for. */
        public static final List<String> EVENTS = List.of(
                "started",
                "resumed",
                "completed",
                "validated",
                "mismatches",
                "failed",
                "paused",
                "stopped",
                "cancelled",
                "rolled-back",
                "finished",
                "held");

        // Held for seconds is the gates doing their work; held for minutes is worth a look.
        static final Duration DEFAULT_HELD_FOR = Duration.ofMinutes(5);

        public Notify {
            on = on == null ? List.of() : List.copyOf(on);
            heldFor = heldFor == null ? DEFAULT_HELD_FOR : heldFor;
        }

        /** The URL to post to: as written, or from the environment (null when the variable is not set). */
        public String url() {
            return webhook != null ? webhook : System.getenv(webhookEnv);
        }

        /** Whether it is told of {@code event}. */
        public boolean wants(String event) {
            return on.contains(event);
        }
    }

    /** A header of a notification whose value is the environment variable {@code env}'s, never the spec's. */
    public record Header(String name, String env) {}

    /**
     * Chunk sizing. {@code rows} is where sizing starts; later work moves it toward {@code target} within
     * [minRows, maxRows].
     */
    public record Chunk(Integer rows, Duration target, Integer minRows, Integer maxRows) {
        // 1000 rows of a narrow table take a few milliseconds to update and hold row locks for as long;
        // small enough to stay under any sane lock_timeout of other sessions, big enough to amortise the
        // per-chunk round trips and checkpoint write.
        static final int DEFAULT_ROWS = 1000;
        // A quarter second keeps each chunk's row locks short compared with typical request timeouts.
        static final Duration DEFAULT_TARGET = Duration.ofMillis(250);
        static final int DEFAULT_MIN_ROWS = 100;
        static final int DEFAULT_MAX_ROWS = 100_000;

        public Chunk {
            // Defaults follow what was written, so that an error names a field the operator wrote: rows alone
            // widens the bounds around it, bounds alone pull the starting size inside them.
            if (rows == null) {
                int low = minRows == null ? 1 : minRows;
                int high = maxRows == null ? Integer.MAX_VALUE : maxRows;
                rows = Math.max(low, Math.min(high, DEFAULT_ROWS));
            }
            target = target == null ? DEFAULT_TARGET : target;
            minRows = minRows == null ? Math.max(1, Math.min(DEFAULT_MIN_ROWS, rows)) : minRows;
            maxRows = maxRows == null ? Math.max(DEFAULT_MAX_ROWS, rows) : maxRows;
        }
    }

    /**
     * Where the rows come from when that is another database than the target: the table and key are there,
     * {@code into} is in the target, and each chunk's checkpoint commits in the target's transaction.
     * Credentials come from the command line or environment, never from the spec.
     */
    public record Source(String jdbcUrl) {}

    /**
     * Rows written per second (0 = unlimited), a fixed pause between chunks, the rate of validation in rows
     * checked per second (null: the same number as {@code rowsPerSecond}; 0 = unlimited), and the WAL the job's
     * chunks may write per second (0 = unlimited).
     */
    public record Throttle(Long rowsPerSecond, Duration pause, Long validateRowsPerSecond, ByteSize walBytesPerSecond) {
        public Throttle {
            rowsPerSecond = rowsPerSecond == null ? 0L : rowsPerSecond;
            pause = pause == null ? Duration.ZERO : pause;
            walBytesPerSecond = walBytesPerSecond == null ? new ByteSize(0) : walBytesPerSecond;
        }

        public Throttle(Long rowsPerSecond, Duration pause) {
            this(rowsPerSecond, pause, null, null);
        }

        /** The rate validation runs at: its own if given, else the backfill's. */
        public long validationRate() {
            return validateRowsPerSecond != null ? validateRowsPerSecond : rowsPerSecond;
        }
    }

    /** Health signals that hold chunks back while they say stop. */
    public record Health(
            Lag replicaLag,
            List<String> replicas,
            SlotLag slotLag,
            Duration poll,
            Boolean autovacuum,
            ActiveSessions activeSessions,
            Query query,
            LockWaiters lockWaiters,
            Prometheus prometheus,
            Http http) {
        // Chunks last a quarter second: reading the signals every second sees a lag build within a few chunks,
        // and costs the primary a few catalog reads a second.
        static final Duration DEFAULT_POLL = Duration.ofSeconds(1);

        public Health {
            replicaLag = replicaLag == null ? new Lag(null, null) : replicaLag;
            replicas = replicas == null ? List.of() : List.copyOf(replicas);
            slotLag = slotLag == null ? new SlotLag(null) : slotLag;
            poll = poll == null ? DEFAULT_POLL : poll;
            autovacuum = autovacuum == null ? Boolean.TRUE : autovacuum;
            activeSessions = activeSessions == null ? new ActiveSessions(null) : activeSessions;
            lockWaiters = lockWaiters == null ? new LockWaiters(null) : lockWaiters;
        }
    }

    /**
     * Give way when a session waits on a chunk's locks longer than {@code maxWait} (0: off): the next chunks shrink
     * and the next one waits.
     */
    public record LockWaiters(Duration maxWait) {
        // Most request timeouts are seconds; a fifth of a second behind a backfill is not what anyone notices.
        static final Duration DEFAULT_MAX_WAIT = Duration.ofMillis(200);

        public LockWaiters {
            maxWait = maxWait == null ? DEFAULT_MAX_WAIT : maxWait;
        }
    }

    /** Hold while more client sessions than {@code max} are active (0: off). */
    public record ActiveSessions(Integer max) {
        public ActiveSessions {
            max = max == null ? 0 : max;
        }
    }

    /**
     * A service-level signal: {@code query}, a PromQL instant query against the Prometheus at {@code url}, held while
     * its value (the highest of its series) is above {@code max}.
     */
    public record Prometheus(String url, String query, Double max) {
        public Prometheus {
            max = max == null ? 0 : max;
        }
    }

    /** An application's throttle endpoint (gh-ost's): held while a GET of {@code url} answers anything but 2xx. */
    public record Http(String url) {}

    /**
     * An operator's signal: {@code sql}, a query returning one number (one expression, as a scalar subquery), held
     * while the number is above {@code max}.
     */
    public record Query(String sql, Double max) {
        public Query {
            max = max == null ? 0 : max;
        }
    }

    /**
     * Physical replica lag limits: {@code max} in time; {@code maxBytes}, optional, in WAL bytes not yet replayed
     * (as seen from the primary).
     */
    public record Lag(Duration max, ByteSize maxBytes) {
        // Reads from a standby five seconds behind are stale enough for applications to notice; a backfill that
        // holds at five seconds never makes a replica the reason for an incident.
        static final Duration DEFAULT_MAX = Duration.ofSeconds(5);

        public Lag {
            max = max == null ? DEFAULT_MAX : max;
        }
    }

    /** Logical replication slot lag limit. */
    public record SlotLag(ByteSize maxBytes) {
        // A gigabyte of WAL is minutes of catch-up for a CDC consumer, and far from the disk space a retained slot
        // usually has: the backfill waits long before the slot endangers the primary.
        static final ByteSize DEFAULT_MAX_BYTES = new ByteSize(1L << 30);

        public SlotLag {
            maxBytes = maxBytes == null ? DEFAULT_MAX_BYTES : maxBytes;
        }
    }

    /**
     * Per-chunk {@code lock_timeout} and {@code statement_timeout}, and how long a runner that lost the database
     * keeps trying to reconnect before the job fails.
     */
    public record Timeouts(Duration lock, Duration statement, Duration reconnect) {
        // A second of waiting for a row lock is long for an application, short for a backfill: it gives way.
        static final Duration DEFAULT_LOCK = Duration.ofSeconds(1);
        // Chunks are sized to a fraction of a second; a statement that takes 30 s is stuck, not slow.
        static final Duration DEFAULT_STATEMENT = Duration.ofSeconds(30);
        // Covers a restart (seconds) and a managed failover (typically 20-60 s) behind the same URL.
        static final Duration DEFAULT_RECONNECT = Duration.ofSeconds(60);

        public Timeouts {
            lock = lock == null ? DEFAULT_LOCK : lock;
            statement = statement == null ? DEFAULT_STATEMENT : statement;
            reconnect = reconnect == null ? DEFAULT_RECONNECT : reconnect;
        }
    }

    /** Either {@code target} compared with {@code source}, or a {@code check} predicate that must hold. */
    public record ValidationRule(String target, String source, String check) {}

    /** When {@code serve} runs the job. */
    public record Schedule(String cron, String window) {}
}
