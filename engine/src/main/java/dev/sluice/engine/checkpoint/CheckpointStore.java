package dev.sluice.engine.checkpoint;

import java.sql.SQLException;

import javax.sql.DataSource;

import org.springframework.batch.core.configuration.support.MapJobRegistry;
import org.springframework.batch.core.launch.JobOperator;
import org.springframework.batch.core.launch.support.TaskExecutorJobOperator;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.repository.support.JdbcJobRepositoryFactoryBean;
import org.springframework.jdbc.support.JdbcTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * Spring Batch's JobRepository in the target database: the checkpoint store and the restart mechanism. Its
 * transaction manager is the one chunks run under, on the same DataSource, which is what makes a chunk's write
 * and its checkpoint one transaction.
 */
public final class CheckpointStore {

    private final DataSource dataSource;
    private final String schema;
    private final PlatformTransactionManager transactionManager;
    private final JobRepository repository;
    private final JobOperator operator;

    private CheckpointStore(
            DataSource dataSource,
            String schema,
            PlatformTransactionManager tm,
            JobRepository repository,
            JobOperator operator) {
        this.dataSource = dataSource;
        this.schema = schema;
        this.transactionManager = tm;
        this.repository = repository;
        this.operator = operator;
    }

    /** Opens the store in {@code schema}, creating its tables on first use. */
    public static CheckpointStore open(DataSource dataSource, String schema) throws SQLException {
        BatchSchema.ensure(dataSource, schema);
        return connect(dataSource, schema);
    }

    /** Opens the store without creating anything; reads of a database that never ran a job find no jobs. */
    public static CheckpointStore connect(DataSource dataSource, String schema) {
        try {
            JdbcTransactionManager tm = new JdbcTransactionManager(dataSource);
            // PostgreSQL has rolled a transaction back when its COMMIT reports an error; saying so lets
            // TaskletStep restore the checkpoint it held before the chunk, instead of marking the step UNKNOWN.
            tm.setRollbackOnCommitFailure(true);
            JdbcJobRepositoryFactoryBean factory = PacedStatusReads.factory();
            factory.setDataSource(dataSource);
            factory.setTransactionManager(tm);
            factory.setDatabaseType("POSTGRES");
            factory.setTablePrefix(schema + ".BATCH_");
            // Runners of one job are already serialised by their advisory lock; READ COMMITTED avoids
            // needless serialization failures when different jobs start at the same moment.
            factory.setIsolationLevelForCreate("ISOLATION_READ_COMMITTED");
            factory.afterPropertiesSet();
            JobRepository repository = factory.getObject();
            TaskExecutorJobOperator operator = new TaskExecutorJobOperator();
            operator.setJobRepository(repository);
            operator.setJobRegistry(new MapJobRegistry());
            operator.afterPropertiesSet();
            return new CheckpointStore(dataSource, schema, tm, repository, operator);
        } catch (Exception e) {
            throw new IllegalStateException("cannot set up Spring Batch's JobRepository: " + e.getMessage(), e);
        }
    }

    /** The same store, its job repository seen through {@code repository} (a partition's {@link HandBack}). */
    CheckpointStore withRepository(JobRepository repository) {
        return new CheckpointStore(dataSource, schema, transactionManager, repository, operator);
    }

    public DataSource dataSource() {
        return dataSource;
    }

    public String schema() {
        return schema;
    }

    public PlatformTransactionManager transactionManager() {
        return transactionManager;
    }

    public JobRepository repository() {
        return repository;
    }

    public JobOperator operator() {
        return operator;
    }
}
