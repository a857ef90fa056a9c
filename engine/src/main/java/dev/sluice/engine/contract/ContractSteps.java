package dev.sluice.engine.contract;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Collectors;

import javax.sql.DataSource;

import dev.sluice.engine.keyset.Catalog;
import dev.sluice.engine.keyset.Sql;
import dev.sluice.engine.keyset.Table;
import dev.sluice.engine.spec.ContractStep;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.engine.spec.SqlFragments;
import dev.sluice.engine.sync.LockSafe;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a job's contract steps, and reverses them. Every step converges: it looks at the catalog and does only what is
 * not there yet, so a step killed at any instant is finished by running it again, and a step whose effect is already
 * there (an index valid, a constraint validated) is recognised, not redone. Catalog changes that take a lock the
 * application's writes queue behind (ACCESS EXCLUSIVE, SHARE ROW EXCLUSIVE) are short transactions under a
 * {@code lock_timeout} growing from 100 ms to the job's {@code timeouts.lock}, retried with jitter; the scans
 * (VALIDATE CONSTRAINT, CREATE INDEX CONCURRENTLY) hold only locks that writes do not conflict with, outside any
 * long transaction.
 */
public final class ContractSteps {

    private static final Logger LOG = LoggerFactory.getLogger(ContractSteps.class);

    static final String CHECK_VIOLATION = "23514";
    static final String UNIQUE_VIOLATION = "23505";
    static final String FOREIGN_KEY_VIOLATION = "23503";
    // How many attempts a lock-taking catalog change makes: with timeouts from 100 ms up to timeouts.lock and pauses
    // of up to 2 s between them, about a minute of finding a gap between the application's transactions.
    private static final int ATTEMPTS = 20;
    private static final int SAMPLES = 5;

    /** A step found rows that stop it (duplicates for a unique index, rows breaking a constraint): nothing left. */
    public static final class Violation extends Exception {
        public Violation(String message) {
            super(message);
        }
    }

    /** A step cannot go on as things stand (a name taken meanwhile, a column gone): nothing more was changed. */
    public static final class Blocked extends Exception {
        public Blocked(String message) {
            super(message);
        }
    }

    private final DataSource dataSource;
    private final String job;
    private final JobSpec spec;
    private final Ledger ledger;
    private final LockSafe catalogChange;
    private final LockSafe scan;
    private final StepSessions sessions;

    public ContractSteps(DataSource dataSource, String schema, JobSpec spec) {
        this.dataSource = dataSource;
        this.job = spec.name();
        this.spec = spec;
        this.ledger = new Ledger(schema);
        this.sessions = new StepSessions(dataSource, job);
        Consumer<String> warn = m -> LOG.warn("job {}: {}", job, m);
        this.catalogChange =
                new LockSafe(Duration.ofMillis(100), spec.timeouts().lock(), ATTEMPTS, warn);
        // A scan's lock (SHARE UPDATE EXCLUSIVE) never queues the application's reads or writes: it may wait longer,
        // for the transactions that already hold the table to end.
        Duration longest = spec.timeouts().statement().compareTo(spec.timeouts().lock()) > 0
                ? spec.timeouts().statement()
                : spec.timeouts().lock();
        this.scan = new LockSafe(spec.timeouts().lock(), longest, ATTEMPTS, warn);
    }

    /** The field naming a step in messages: {@code contract[2].index}. */
    public static String field(int index, ContractStep step) {
        return "contract[" + index + "]." + step.kind().written();
    }

    /** The definition a step is recorded with. */
    public static String definition(ContractStep step) {
        return SpecParser.toJson(step);
    }

    /**
     * Waits until no session of an earlier finish or rollback of this job still runs a step in the server (its process
     * killed, its statement not yet ended); the caller holds the job's runner lock. {@link #apply}, {@link #reverse}
     * and {@link #purge} wait so themselves; a caller that changes the table before them (finish drops the sync
     * trigger) waits first.
     */
    public void awaitEarlier() throws SQLException {
        sessions.awaitEarlier();
    }

    /** What one step came to. */
    public record Done(int index, ContractStep step, boolean already, double seconds) {}

    /**
     * Runs every step not yet done, in order, recording each.
     *
     * @param said told each step's outcome as it ends
     */
    public List<Done> apply(Consumer<Done> said) throws SQLException, Violation, Blocked, LockSafe.NotGranted {
        sessions.awaitEarlier();
        Map<Integer, Ledger.Entry> entries = read();
        List<Done> done = new ArrayList<>();
        List<ContractStep> steps = spec.contract();
        Optional<String> unknown = beyond(entries, steps.size());
        if (unknown.isPresent()) {
            throw new Blocked(unknown.get());
        }
        for (int n = 0; n < steps.size(); n++) {
            int i = n;
            ContractStep step = steps.get(i);
            Ledger.Entry entry = entries.get(i);
            if (entry != null
                    && !entry.definition().equals(definition(step))
                    && entry.state() != Ledger.State.REVERSED) {
                throw new Blocked(field(i, step) + " was begun as " + entry.definition()
                        + " and the spec now says otherwise: put the step back as it was to finish, or roll the job"
                        + " back first");
            }
            if (entry != null && entry.state() == Ledger.State.DONE) {
                continue;
            }
            long started = System.nanoTime();
            Map<String, String> facts =
                    entry != null && entry.state() == Ledger.State.STARTED ? entry.facts() : before(i, step);
            if (entry == null || entry.state() == Ledger.State.REVERSED) {
                record(c -> ledger.start(c, job, i, step.kind().written(), definition(step), facts));
            }
            boolean already = converge(i, step, facts);
            record(c -> ledger.mark(c, job, i, Ledger.State.DONE));
            Done d = new Done(i, step, already, (System.nanoTime() - started) / 1e9);
            LOG.info(
                    "job {}: {} {} in {} s",
                    job,
                    field(i, step),
                    already ? "was already in place" : "done",
                    String.format(Locale.ROOT, "%.1f", d.seconds()));
            said.accept(d);
            done.add(d);
        }
        return done;
    }

    /**
     * A step the record holds as begun (and not reversed) that a contract of {@code size} steps does not have: finish
     * with such a spec would leave what that step made (an INVALID index, a NOT VALID constraint) and call the job
     * FINISHED.
     *
     * @return why finish must not go on, or empty
     */
    public static Optional<String> beyond(Map<Integer, Ledger.Entry> entries, int size) {
        return entries.values().stream()
                .filter(e -> e.step() >= size && e.state() != Ledger.State.REVERSED)
                .findFirst()
                .map(e -> "contract[" + e.step() + "] was begun as " + e.definition() + ", which this spec's contract"
                        + " does not hold: finish with the spec it was begun with, or roll the job back first");
    }

    /**
     * Reverses the steps the ledger holds as started or done, newest first, each recorded as REVERSED once its effect
     * is gone; a step that was in place before the job began (a column already NOT NULL) is left as it was.
     *
     * @return the steps reversed now
     */
    public int reverse() throws SQLException, Violation, Blocked, LockSafe.NotGranted {
        sessions.awaitEarlier();
        Map<Integer, Ledger.Entry> entries = read();
        List<Integer> newestFirst = new ArrayList<>(entries.keySet());
        java.util.Collections.reverse(newestFirst);
        int reversed = 0;
        for (int i : newestFirst) {
            Ledger.Entry entry = entries.get(i);
            int index = i;
            if (entry.state() == Ledger.State.REVERSED) {
                continue;
            }
            ContractStep step = recorded(i, entry);
            undo(i, step, entry.facts());
            record(c -> ledger.mark(c, job, index, Ledger.State.REVERSED));
            LOG.info("job {}: {} reversed", job, field(i, step));
            reversed++;
        }
        return reversed;
    }

    /** Drops the columns set aside by drop-columns steps done: after this there is no way back. */
    public List<String> purge() throws SQLException, LockSafe.NotGranted {
        sessions.awaitEarlier();
        List<String> dropped = new ArrayList<>();
        for (Ledger.Entry entry : read().values()) {
            if (entry.state() == Ledger.State.REVERSED) {
                continue;
            }
            for (Map.Entry<String, String> f : entry.facts().entrySet()) {
                if (f.getKey().startsWith("aside:")) {
                    String aside = f.getValue();
                    if (column(aside) != null) {
                        alter(List.of("DROP COLUMN IF EXISTS " + Sql.quote(aside)));
                        dropped.add(aside);
                    }
                }
            }
        }
        return dropped;
    }

    /** The step a ledger entry was begun as, read back from its record. */
    private static ContractStep recorded(int i, Ledger.Entry entry) throws Blocked {
        try {
            return SpecParser.contractStep(entry.definition());
        } catch (RuntimeException e) {
            throw new Blocked("contract[" + i + "] was recorded as " + entry.definition()
                    + ", which this version cannot read: undo it by hand");
        }
    }

    private Map<Integer, Ledger.Entry> read() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            return ledger.read(c, job);
        }
    }

    @FunctionalInterface
    private interface Write {
        void run(Connection c) throws SQLException;
    }

    private void record(Write w) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            boolean auto = c.getAutoCommit();
            c.setAutoCommit(true);
            try {
                w.run(c);
            } finally {
                c.setAutoCommit(auto);
            }
        }
    }

    /** What a step finds before it begins, kept with its record: what its reversal must give back. */
    private Map<String, String> before(int i, ContractStep step) throws SQLException, Blocked {
        Map<String, String> facts = new LinkedHashMap<>();
        switch (step.kind()) {
            case NOT_NULL -> {
                Column col = column(step.notNull());
                if (col == null) {
                    throw new Blocked(
                            field(i, step) + ": no column '" + step.notNull() + "' in " + spec.contractTable());
                }
                facts.put("was-not-null", String.valueOf(col.notNull()));
                facts.put("check", constraintName(i, "nn"));
            }
            case DROP_COLUMNS -> {
                for (String name : step.dropColumns()) {
                    Column col = column(name);
                    facts.put("aside:" + name, asideName(name));
                    facts.put("was-not-null:" + name, String.valueOf(col != null && col.notNull()));
                }
                facts.put("check", constraintName(i, "nn"));
            }
            default -> {}
        }
        return facts;
    }

    /** @return whether the step's effect was all there already */
    private boolean converge(int i, ContractStep step, Map<String, String> facts)
            throws SQLException, Violation, Blocked, LockSafe.NotGranted {
        String field = field(i, step);
        return switch (step.kind()) {
            case NOT_NULL -> notNull(field, step.notNull(), facts.get("check"));
            case INDEX -> index(field, step.index());
            case CHECK ->
                constraint(
                        field,
                        step.check().name(),
                        "CHECK (" + SqlFragments.forJdbc(step.check().expression()) + ")",
                        "NOT (" + SqlFragments.forJdbc(step.check().expression()) + ")");
            case FOREIGN_KEY -> foreignKey(field, step.foreignKey());
            case DROP_COLUMNS -> setAside(field, step.dropColumns(), facts);
            case RENAME_COLUMN ->
                rename(field, step.renameColumn().from(), step.renameColumn().to());
        };
    }

    private void undo(int i, ContractStep step, Map<String, String> facts)
            throws SQLException, Violation, Blocked, LockSafe.NotGranted {
        String field = field(i, step);
        switch (step.kind()) {
            case NOT_NULL -> {
                List<String> ddl = new ArrayList<>();
                ddl.add("DROP CONSTRAINT IF EXISTS " + Sql.quote(facts.get("check")));
                Column col = column(step.notNull());
                if ("false".equals(facts.get("was-not-null")) && col != null && col.notNull()) {
                    ddl.add("ALTER COLUMN " + Sql.quote(step.notNull()) + " DROP NOT NULL");
                }
                alter(ddl);
            }
            case INDEX ->
                scanned(c -> execute(
                        c,
                        "DROP INDEX CONCURRENTLY IF EXISTS "
                                + indexName(step.index().name())));
            case CHECK -> dropConstraint(step.check().name());
            case FOREIGN_KEY -> dropConstraint(step.foreignKey().name());
            case DROP_COLUMNS -> {
                List<String> ddl = new ArrayList<>();
                for (String name : step.dropColumns()) {
                    String aside = facts.get("aside:" + name);
                    boolean setAside = column(aside) != null;
                    boolean back = column(name) != null;
                    if (setAside && back) {
                        throw new Blocked(field + ": both " + name + " and " + aside
                                + " (where it was set aside) are in "
                                + spec.contractTable() + ": a column of the old name was added since; drop or rename"
                                + " it, then roll back again");
                    }
                    if (setAside) {
                        ddl.add("RENAME COLUMN " + Sql.quote(aside) + " TO " + Sql.quote(name));
                    } else if (!back) {
                        throw new Blocked(field + ": column " + name + " is not there to bring back (set aside as "
                                + aside + ", which is gone too: was the job purged?)");
                    }
                }
                if (!ddl.isEmpty()) {
                    alter(ddl);
                }
                for (String name : step.dropColumns()) {
                    if ("true".equals(facts.get("was-not-null:" + name))) {
                        notNull(field, name, facts.get("check"));
                    }
                }
            }
            case RENAME_COLUMN -> {
                String from = step.renameColumn().from();
                String to = step.renameColumn().to();
                boolean renamed = column(to) != null;
                boolean back = column(from) != null;
                if (renamed == back) {
                    throw new Blocked(field + ": "
                            + (renamed
                                    ? "both " + from + " and " + to + " are"
                                    : "neither " + from + " nor " + to + " is")
                            + " in " + spec.contractTable()
                            + ": rename or drop by hand what was added since, then roll back again");
                }
                if (renamed) {
                    alter(List.of("RENAME COLUMN " + Sql.quote(to) + " TO " + Sql.quote(from)));
                }
            }
        }
    }

    /**
     * NOT NULL without a scan under ACCESS EXCLUSIVE: a CHECK added NOT VALID (a catalog change), validated (a scan
     * that writes go on beside), then SET NOT NULL, which the validated check spares its scan, and the check dropped.
     */
    private boolean notNull(String field, String column, String check)
            throws SQLException, Violation, Blocked, LockSafe.NotGranted {
        Column col = column(column);
        if (col == null) {
            throw new Blocked(field + ": no column '" + column + "' in " + spec.contractTable());
        }
        if (col.notNull()) {
            if (constraint(check) != null) {
                dropConstraint(check);
                return false;
            }
            return true;
        }
        validated(field, check, "CHECK (" + Sql.quote(column) + " IS NOT NULL)", Sql.quote(column) + " IS NULL");
        alter(List.of("ALTER COLUMN " + Sql.quote(column) + " SET NOT NULL", "DROP CONSTRAINT " + Sql.quote(check)));
        return false;
    }

    /** A CHECK constraint: added NOT VALID, then validated. */
    private boolean constraint(String field, String name, String definition, String violating)
            throws SQLException, Violation, LockSafe.NotGranted {
        Boolean validated = constraint(name);
        if (Boolean.TRUE.equals(validated)) {
            return true;
        }
        validated(field, name, definition, violating);
        return false;
    }

    private void validated(String field, String name, String definition, String violating)
            throws SQLException, Violation, LockSafe.NotGranted {
        String qualified = target().qualified();
        if (constraint(name) == null) {
            alter(List.of("ADD CONSTRAINT " + Sql.quote(name) + " " + definition + " NOT VALID"));
        }
        try {
            scanned(c -> execute(c, "ALTER TABLE " + qualified + " VALIDATE CONSTRAINT " + Sql.quote(name)));
        } catch (SQLException e) {
            if (!CHECK_VIOLATION.equals(e.getSQLState()) && !FOREIGN_KEY_VIOLATION.equals(e.getSQLState())) {
                throw e;
            }
            dropConstraint(name);
            long rows = count("SELECT count(*) FROM " + qualified + " WHERE " + violating);
            throw new Violation(String.format(
                    Locale.ROOT,
                    "%s: %,d rows of %s break it (%s), so it was not added; fix them, then run this again",
                    field,
                    rows,
                    spec.contractTable(),
                    violating));
        }
    }

    private boolean foreignKey(String field, ContractStep.ForeignKey fk)
            throws SQLException, Violation, LockSafe.NotGranted {
        Table referenced;
        try (Connection c = dataSource.getConnection()) {
            referenced = Catalog.table(c, fk.referencedTable());
        }
        String columns = fk.columns().stream().map(Sql::quote).collect(Collectors.joining(", "));
        String theirs = fk.referencedColumns().stream().map(Sql::quote).collect(Collectors.joining(", "));
        StringBuilder orphans = new StringBuilder();
        for (int k = 0; k < fk.columns().size(); k++) {
            orphans.append(Sql.quote(fk.columns().get(k))).append(" IS NOT NULL AND ");
        }
        orphans.append("NOT EXISTS (SELECT 1 FROM ")
                .append(referenced.qualifiedName())
                .append(" r WHERE ");
        for (int k = 0; k < fk.columns().size(); k++) {
            orphans.append(k == 0 ? "" : " AND ")
                    .append("r.")
                    .append(Sql.quote(fk.referencedColumns().get(k)))
                    .append(" = ")
                    .append(target().qualified())
                    .append('.')
                    .append(Sql.quote(fk.columns().get(k)));
        }
        orphans.append(')');
        return constraint(
                field,
                fk.name(),
                "FOREIGN KEY (" + columns + ") REFERENCES " + referenced.qualifiedName() + " (" + theirs + ")"
                        + (fk.onDelete() == null
                                ? ""
                                : " ON DELETE " + fk.onDelete().strip().toUpperCase(Locale.ROOT)),
                orphans.toString());
    }

    /**
     * {@code CREATE INDEX CONCURRENTLY}. An index of the name that is INVALID (a build killed or failed) is dropped
     * concurrently first, on every attempt; a valid one is the step done. A unique build that meets duplicates leaves
     * nothing and names them.
     */
    private boolean index(String field, ContractStep.Index index)
            throws SQLException, Violation, Blocked, LockSafe.NotGranted {
        String name = indexName(index.name());
        Boolean valid = indexValid(index.name());
        if (Boolean.TRUE.equals(valid)) {
            return true;
        }
        String sql = "CREATE " + (index.unique() ? "UNIQUE " : "") + "INDEX CONCURRENTLY " + Sql.quote(index.name())
                + " ON " + target().qualified() + " (" + keys(index) + ")"
                + (index.include().isEmpty()
                        ? ""
                        : " INCLUDE ("
                                + index.include().stream().map(Sql::quote).collect(Collectors.joining(", "))
                                + ")")
                + (index.where() == null ? "" : " WHERE (" + SqlFragments.forJdbc(index.where()) + ")");
        try {
            scanned(c -> {
                Boolean before = indexValid(c, index.name());
                if (Boolean.TRUE.equals(before)) {
                    return; // built meanwhile (by a build of a killed finish that its server carried on)
                }
                if (before != null) {
                    execute(c, "DROP INDEX CONCURRENTLY IF EXISTS " + name);
                }
                execute(c, sql);
            });
        } catch (SQLException e) {
            dropInvalid(index.name());
            if (UNIQUE_VIOLATION.equals(e.getSQLState())) {
                throw new Violation(field + ": " + duplicates(index) + ", so the unique index " + index.name()
                        + " was not built (nothing is left of it); make them unique, then finish again");
            }
            throw e;
        } catch (LockSafe.NotGranted e) {
            dropInvalid(index.name());
            throw e;
        }
        return false;
    }

    private void dropInvalid(String index) throws SQLException, LockSafe.NotGranted {
        if (Boolean.FALSE.equals(indexValid(index))) {
            scanned(c -> execute(c, "DROP INDEX CONCURRENTLY IF EXISTS " + indexName(index)));
        }
    }

    private static String keys(ContractStep.Index index) {
        return index.expression() != null
                ? "(" + SqlFragments.forJdbc(index.expression()) + ")"
                : index.columns().stream().map(Sql::quote).collect(Collectors.joining(", "));
    }

    /** The first keys a unique index would hold twice, and how often: "2 rows hold (a@x.org), 3 hold (b@y.org)". */
    private String duplicates(ContractStep.Index index) throws SQLException {
        String keys = index.expression() != null
                ? "(" + SqlFragments.forJdbc(index.expression()) + ")"
                : index.columns().stream().map(Sql::quote).collect(Collectors.joining(", "));
        String notNull = index.expression() != null
                ? "(" + SqlFragments.forJdbc(index.expression()) + ") IS NOT NULL"
                : index.columns().stream()
                        .map(c -> Sql.quote(c) + " IS NOT NULL")
                        .collect(Collectors.joining(" AND "));
        String sql = "SELECT (" + keys + ")::text, count(*), count(*) OVER () FROM " + target().qualified()
                + " WHERE " + notNull
                + (index.where() == null ? "" : " AND (" + SqlFragments.forJdbc(index.where()) + ")")
                + " GROUP BY " + keys + " HAVING count(*) > 1 ORDER BY count(*) DESC, 1 LIMIT " + SAMPLES;
        List<String> found = new ArrayList<>();
        long groups = 0;
        try (Connection c = dataSource.getConnection();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                found.add(rs.getLong(2) + " rows hold " + rs.getString(1));
                groups = rs.getLong(3);
            }
        }
        if (found.isEmpty()) {
            return "rows written during the build duplicated a key";
        }
        return String.format(Locale.ROOT, "%,d keys are duplicated", groups) + " (" + String.join("; ", found) + ")";
    }

    /** Sets columns aside: renamed (and made nullable, as a dropped column would be) in one catalog change. */
    private boolean setAside(String field, List<String> columns, Map<String, String> facts)
            throws SQLException, Blocked, LockSafe.NotGranted {
        List<String> ddl = new ArrayList<>();
        for (String name : columns) {
            String aside = facts.get("aside:" + name);
            Column col = column(name);
            Column asideCol = column(aside);
            if (col == null && asideCol != null) {
                continue; // set aside already
            }
            if (col == null) {
                throw new Blocked(field + ": no column '" + name + "' in " + spec.contractTable());
            }
            if (asideCol != null) {
                throw new Blocked(field + ": both " + name + " and " + aside + " are in " + spec.contractTable()
                        + ": drop the one that is not the data, then finish again");
            }
            ddl.add("RENAME COLUMN " + Sql.quote(name) + " TO " + Sql.quote(aside));
            if (col.notNull()) {
                ddl.add("ALTER COLUMN " + Sql.quote(aside) + " DROP NOT NULL");
            }
        }
        if (ddl.isEmpty()) {
            return true;
        }
        alter(ddl);
        return false;
    }

    private boolean rename(String field, String from, String to) throws SQLException, Blocked, LockSafe.NotGranted {
        boolean hasFrom = column(from) != null;
        boolean hasTo = column(to) != null;
        if (!hasFrom && hasTo) {
            return true;
        }
        if (!hasFrom || hasTo) {
            throw new Blocked(field + ": "
                    + (hasTo ? "both " + from + " and " + to + " are" : "neither " + from + " nor " + to + " is")
                    + " in " + spec.contractTable());
        }
        alter(List.of("RENAME COLUMN " + Sql.quote(from) + " TO " + Sql.quote(to)));
        return false;
    }

    private void dropConstraint(String name) throws SQLException, LockSafe.NotGranted {
        if (constraint(name) != null) {
            alter(List.of("DROP CONSTRAINT IF EXISTS " + Sql.quote(name)));
        }
    }

    /**
     * {@code ALTER TABLE} with {@code clauses}, one statement each, in one short transaction under a growing
     * {@code lock_timeout} (their locks queue the application's writes).
     */
    private void alter(List<String> clauses) throws SQLException, LockSafe.NotGranted {
        String table = target().qualified();
        catalogChange.run(
                dataSource,
                spec.contractTable(),
                c -> sessions.inTransaction(
                        c,
                        LockSafe.statements(clauses.stream()
                                .map(clause -> "ALTER TABLE " + table + " " + clause)
                                .toList())));
    }

    /**
     * Runs {@code work} outside a transaction block under the scan's growing lock timeouts, on a session a later
     * finish or rollback waits for (see {@link StepSessions}).
     */
    private void scanned(LockSafe.Work work) throws SQLException, LockSafe.NotGranted {
        scan.runOutsideTransaction(dataSource, spec.contractTable(), c -> sessions.outsideTransaction(c, work));
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private long count(String sql) throws SQLException {
        try (Connection c = dataSource.getConnection();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * The table the steps change, resolved once: its oid, its qualified name, its schema (where its indexes go). The
     * steps rename its columns, never the table.
     */
    private record Target(long oid, String qualified, String schema) {}

    private Target target;

    private Target target() throws SQLException {
        if (target == null) {
            try (Connection c = dataSource.getConnection()) {
                Table t = Catalog.table(c, spec.contractTable());
                try (PreparedStatement ps = c.prepareStatement("SELECT quote_ident(n.nspname) FROM pg_class t"
                        + " JOIN pg_namespace n ON n.oid = t.relnamespace WHERE t.oid = ?")) {
                    ps.setLong(1, t.oid());
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        target = new Target(t.oid(), t.qualifiedName(), rs.getString(1));
                    }
                }
            }
        }
        return target;
    }

    /** A column by its exact name, as the catalog has it now. */
    private record Column(String name, boolean notNull) {}

    private Column column(String name) throws SQLException {
        try (Connection c = dataSource.getConnection();
                // NOT NULL only when proved: on PostgreSQL 18 a NOT NULL constraint added NOT VALID sets attnotnull
                // too (before 18 there are no such constraints, and the subquery finds none).
                PreparedStatement ps = c.prepareStatement("SELECT a.attname, a.attnotnull AND NOT EXISTS (SELECT 1"
                        + " FROM pg_constraint k WHERE k.conrelid = a.attrelid AND k.contype = 'n' AND NOT"
                        + " k.convalidated AND k.conkey = ARRAY[a.attnum]) FROM pg_attribute a"
                        + " WHERE a.attrelid = ? AND a.attname = ? AND a.attnum > 0 AND NOT a.attisdropped")) {
            ps.setLong(1, target().oid());
            ps.setString(2, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new Column(rs.getString(1), rs.getBoolean(2)) : null;
            }
        }
    }

    /** Whether the table's constraint of that name is validated; null when there is none. */
    private Boolean constraint(String name) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "SELECT convalidated FROM pg_constraint WHERE conrelid = ? AND conname = ?")) {
            ps.setLong(1, target().oid());
            ps.setString(2, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getBoolean(1) : null;
            }
        }
    }

    /** The index of that name in the table's schema, qualified and quoted. */
    private String indexName(String index) throws SQLException {
        return target().schema() + "." + Sql.quote(index);
    }

    private Boolean indexValid(String index) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            return indexValid(c, index);
        }
    }

    /** Whether the index of that name is valid (built and ready); null when there is none. */
    private Boolean indexValid(Connection c, String index) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT i.indisvalid AND i.indisready FROM pg_index i"
                + " WHERE i.indexrelid = to_regclass(?) AND i.indrelid = ?")) {
            ps.setString(1, indexName(index));
            ps.setLong(2, target().oid());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getBoolean(1) : null;
            }
        }
    }

    /** A name of Sluice's own for a step's helper constraint: {@code sluice_nn_<digest of job and step>}. */
    private String constraintName(int step, String what) {
        return "sluice_" + what + "_" + digest(job + "/" + step);
    }

    /** Where a dropped column is set aside: its name (cut to fit) and a digest of the job and the name. */
    String asideName(String column) {
        String suffix = "_sluice_dropped_" + digest(job + "/" + column);
        String head = column;
        while (head.getBytes(StandardCharsets.UTF_8).length + suffix.length() > 63) {
            head = head.substring(0, head.length() - 1);
        }
        return head + suffix;
    }

    private static String digest(String text) {
        return Sql.digest(text, 4);
    }
}
