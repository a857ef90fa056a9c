package dev.sluice.engine.launch;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

import javax.sql.DataSource;

import dev.sluice.engine.Finding;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.checkpoint.JobRuns;
import dev.sluice.engine.checkpoint.StatusReader;
import dev.sluice.engine.control.LostDatabase;
import dev.sluice.engine.preflight.ContractCheck;
import dev.sluice.engine.preflight.Preflight;
import dev.sluice.engine.preflight.Prepared;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spi.Connector;
import dev.sluice.engine.spi.Transformer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every verb of one {@code Backfill} shares: the target database (behind the guard that refuses connections at
 * once while it is lost), the schema of its job repository, the runs recorded there, the pools opened to source
 * databases, and the launcher that runs work under a job's lock. The verbs (run, validate, rollback, control, the
 * contract step) take this one context instead of passing each other their pieces.
 */
public final class EngineContext implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EngineContext.class);

    private final DataSource dataSource;
    private final String schema;
    private final Transformer.Catalog transformers;
    private final SourcePools sources;
    private final JobRuns runs;
    private final StatusReader statuses;
    private final Launcher launcher;

    public EngineContext(DataSource target, String schema, Transformer.Catalog transformers, Connector sources) {
        LostDatabase database = new LostDatabase(target);
        this.dataSource = database;
        this.schema = schema;
        this.transformers = transformers;
        this.sources = new SourcePools(sources);
        this.runs = new JobRuns(dataSource, schema);
        this.statuses = new StatusReader(dataSource, schema);
        this.launcher = new Launcher(database, runs, schema);
    }

    /** The target database, guarded: while it is lost, a connection is refused at once. */
    public DataSource dataSource() {
        return dataSource;
    }

    /** The schema of the job repository and Sluice's own tables. */
    public String schema() {
        return schema;
    }

    /** The jobs' runs in the job repository. */
    public JobRuns runs() {
        return runs;
    }

    public Launcher launcher() {
        return launcher;
    }

    /** The state of job {@code name} (NOT_STARTED when it never ran). Reads only. */
    public JobStatus status(String name) throws SQLException {
        return statuses.read(name);
    }

    /** The state of every job the repository knows. Reads only. */
    public List<JobStatus> statuses() throws SQLException {
        return statuses.readAll();
    }

    /** The spec recorded when the job last started, if it ever did. */
    public Optional<JobSpec> recordedSpec(String name) throws SQLException {
        return statuses.recordedSpec(name);
    }

    /**
     * Checks the spec's contract steps against the catalog as it is now (the steps its record holds as done are not
     * checked again).
     *
     * @throws dev.sluice.engine.spec.SpecException naming the step that cannot run
     */
    public void checkContract(JobSpec spec) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            ContractCheck.check(c, spec, schema, true);
        }
    }

    /** Preflight: checks the spec against the database and plans its statements; writes nothing. */
    public Prepared plan(JobSpec spec) throws SQLException {
        return plan(spec, false);
    }

    /**
     * {@link #plan(JobSpec)}, as the {@code plan} verb asks: strict about the contract (a column a step drops that
     * something still uses is refused, not only warned about).
     */
    public Prepared plan(JobSpec spec, boolean strictContract) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            return Preflight.check(c, spec, transformers, sources.of(spec), schema, strictContract);
        }
    }

    /**
     * Preflight for a verb that goes on to work (run, resume, validate, repair, rollback): what it warns about the
     * table's triggers is said in the log too, as {@code plan} lists it, since those triggers also fire on the work's
     * own writes.
     */
    public Prepared prepare(JobSpec spec) throws SQLException {
        Prepared prepared = plan(spec);
        for (Finding f : prepared.findings()) {
            if (f.level() == Finding.Level.WARN && f.check().equals("triggers")) {
                LOG.warn("job {}: {}", spec.name(), f.detail());
            }
        }
        return prepared;
    }

    /** The source database of job {@code name}'s cross-database copy (from its recorded spec), or null. */
    public DataSource sourceOf(String name) throws SQLException {
        return recordedSpec(name)
                .filter(spec -> spec.source() != null)
                .map(sources::of)
                .orElse(null);
    }

    /** Closes the pools opened to source databases. */
    @Override
    public void close() {
        sources.close();
    }
}
