package dev.sluice.jobs.bench;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.RunOptions;
import dev.sluice.engine.RunResult;
import dev.sluice.engine.ValidationResult;
import dev.sluice.engine.spec.SpecParser;
import dev.sluice.jobs.transformers.TransformerCatalog;

import org.springframework.batch.core.configuration.support.MapJobRegistry;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.launch.support.TaskExecutorJobOperator;
import org.springframework.batch.core.repository.support.ResourcelessJobRepository;
import org.springframework.batch.core.step.Step;
import org.springframework.batch.core.step.builder.StepBuilder;
import org.springframework.batch.infrastructure.item.database.Order;
import org.springframework.batch.infrastructure.item.database.builder.JdbcBatchItemWriterBuilder;
import org.springframework.batch.infrastructure.item.database.builder.JdbcPagingItemReaderBuilder;
import org.springframework.jdbc.support.JdbcTransactionManager;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * One JVM contender of {@code sluice bench}, run in a JVM of its own so that its wall time and peak RSS are its
 * own: Spring Batch out of the box, or Sluice in SQL or Java mode. Prints {@code elapsed=SECONDS}.
 */
@Command(
        name = "bench-contender",
        mixinStandardHelpOptions = true,
        hidden = true,
        description = "internal: one contender of 'sluice bench'")
public class ContenderCommand implements Callable<Integer> {

    @Parameters(
            index = "0",
            description = "spring-batch, sluice-sql, sluice-sql-p2, sluice-sql-undo, sluice-java,"
                    + " sluice-java-p2, sluice-validate,"
                    + " accounts-none or accounts-trigger")
    String contender;

    @Parameters(index = "1", description = "the table")
    String table;

    @Option(names = "--job", required = true, description = "the Sluice job's name")
    String job;

    @Option(names = "--jdbc-url", required = true)
    String url;

    @Option(names = "--chunk", defaultValue = "1000")
    int chunk;

    @Option(names = "--key", defaultValue = "bigint")
    String key;

    @Option(names = "--fixed-chunks")
    boolean fixedChunks;

    @Option(names = "--rows-per-second", defaultValue = "0")
    long rowsPerSecond;

    private static final String SQL = "set: { email_lower: lower(email), amount_dollars: amount_cents / 100.0 }\n";

    /** A row of the bench table as Spring Batch reads it: its key's values, in the key's order. */
    public record Item(Object[] key, String email, long amountCents) {}

    @Override
    public Integer call() throws Exception {
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(url);
        // The embedded server's user, or the user's own server's (bench --jdbc-url), as every command takes them.
        hc.setUsername(System.getenv().getOrDefault("SLUICE_USER", "postgres"));
        String password = System.getenv("SLUICE_PASSWORD");
        if (password != null && !password.isBlank()) {
            hc.setPassword(password);
        }
        // The runner lock, a chunk transaction per partition (two at most here), the throttle record, a spare.
        hc.setMaximumPoolSize(8);
        try (HikariDataSource ds = new HikariDataSource(hc)) {
            long started = System.nanoTime();
            switch (contender) {
                case "spring-batch" -> springBatch(ds);
                case "sluice-sql" -> sluice(ds, SQL + "undo: false");
                case "sluice-sql-p2" -> sluice(ds, SQL + "undo: false\nparallel: 2");
                case "sluice-sql-undo" -> sluice(ds, SQL + "undo: true");
                case "sluice-java" -> sluice(ds, "transformer: email-lower-dollars\nundo: false");
                case "sluice-java-p2" -> sluice(ds, "transformer: email-lower-dollars\nundo: false\nparallel: 2");
                case "sluice-validate" -> validate(ds);
                case "accounts-none", "accounts-trigger" -> accounts(ds, contender.substring("accounts-".length()));
                default -> throw new IllegalArgumentException("no contender " + contender);
            }
            System.out.printf(Locale.ROOT, "elapsed=%.3f%n", (System.nanoTime() - started) / 1e9);
        }
        return 0;
    }

    private void sluice(HikariDataSource ds, String mode) throws Exception {
        String spec = "name: " + job + "\ntable: " + table + "\nkey: " + key() + "\n" + mode + "\n" + chunk()
                + "throttle: { rows-per-second: " + rowsPerSecond + " }\n"
                + "validate-after-run: false\n";
        try (Backfill backfill =
                Backfill.builder(ds).transformers(TransformerCatalog.INSTANCE).build()) {
            RunResult r = backfill.run(SpecParser.parse(spec), RunOptions.defaults());
            if (r.outcome() != RunResult.Outcome.COMPLETED) {
                throw new IllegalStateException(r.message());
            }
        }
    }

    /** The bench table's key, as a spec lists it. */
    private String key() {
        return KeyKind.of(key).key().toString();
    }

    /** The spec's chunk: fixed at {@code --chunk} rows, or sized from there toward the default target time. */
    private String chunk() {
        return fixedChunks
                ? "chunk: { rows: " + chunk + ", min-rows: " + chunk + ", max-rows: " + chunk + " }\n"
                : "chunk: { rows: " + chunk + " }\n";
    }

    /**
     * The backfill of {@code bench --load}'s sync rounds: {@code abalance_cents = abalance * 100} over pgbench's
     * accounts, which pgbench updates all the time, with {@code sync: none} or {@code trigger}.
     */
    private void accounts(HikariDataSource ds, String sync) throws Exception {
        String spec = "name: " + job + "\ntable: " + table + "\nkey: [aid]\nset: { abalance_cents: abalance * 100 }\n"
                + "sync: " + sync + "\nchunk: { rows: " + chunk + " }\nthrottle: { rows-per-second: " + rowsPerSecond
                + " }\n"
                + "validate-after-run: false\n";
        try (Backfill backfill = Backfill.builder(ds).build()) {
            RunResult r = backfill.run(SpecParser.parse(spec), RunOptions.defaults());
            if (r.outcome() != RunResult.Outcome.COMPLETED) {
                throw new IllegalStateException(r.message());
            }
        }
    }

    /** Validates a backfilled table, unthrottled: both columns against their expressions, every row. */
    private void validate(HikariDataSource ds) throws Exception {
        String spec = "name: " + job + "\ntable: " + table + "\nkey: " + key() + "\n"
                + "set: { email_lower: lower(email), amount_dollars: amount_cents / 100.0 }\n"
                + "validate:\n  - { target: email_lower, source: lower(email) }\n"
                + "  - { target: amount_dollars, source: amount_cents / 100.0 }\n"
                + chunk() + "throttle: { rows-per-second: " + rowsPerSecond + " }\n";
        try (Backfill backfill =
                Backfill.builder(ds).transformers(TransformerCatalog.INSTANCE).build()) {
            ValidationResult r = backfill.validate(SpecParser.parse(spec), RunOptions.defaults());
            if (!r.clean()) {
                throw new IllegalStateException("validation " + r.message() + ", " + r.mismatches() + " mismatches");
            }
        }
    }

    private void springBatch(HikariDataSource ds) throws Exception {
        List<String> keyColumns = KeyKind.of(key).key();
        Map<String, Order> sortKeys = new LinkedHashMap<>();
        keyColumns.forEach(k -> sortKeys.put(k, Order.ASCENDING));
        ResourcelessJobRepository repository = new ResourcelessJobRepository();
        JdbcTransactionManager tm = new JdbcTransactionManager(ds);
        Step step = new StepBuilder("update", repository)
                .<Item, Item>chunk(chunk)
                .transactionManager(tm)
                .reader(new JdbcPagingItemReaderBuilder<Item>()
                        .name("reader")
                        .dataSource(ds)
                        .pageSize(chunk)
                        .selectClause("SELECT " + String.join(", ", keyColumns) + ", email, amount_cents")
                        .fromClause("FROM " + table)
                        .sortKeys(sortKeys)
                        .rowMapper((rs, i) -> {
                            Object[] k = new Object[keyColumns.size()];
                            for (int c = 0; c < k.length; c++) {
                                k[c] = rs.getObject(c + 1);
                            }
                            return new Item(k, rs.getString(k.length + 1), rs.getLong(k.length + 2));
                        })
                        .build())
                .writer(new JdbcBatchItemWriterBuilder<Item>()
                        .dataSource(ds)
                        .sql("UPDATE " + table + " SET email_lower = ?, amount_dollars = ? WHERE "
                                + String.join(
                                        " AND ",
                                        keyColumns.stream().map(k -> k + " = ?").toList()))
                        .itemPreparedStatementSetter((item, ps) -> {
                            ps.setString(1, item.email().toLowerCase(Locale.ROOT));
                            ps.setBigDecimal(
                                    2, BigDecimal.valueOf(item.amountCents()).movePointLeft(2));
                            for (int c = 0; c < item.key().length; c++) {
                                ps.setObject(3 + c, item.key()[c]);
                            }
                        })
                        .build())
                .build();
        Job job = new JobBuilder("bench-spring-batch", repository).start(step).build();
        TaskExecutorJobOperator operator = new TaskExecutorJobOperator();
        operator.setJobRepository(repository);
        operator.setJobRegistry(new MapJobRegistry());
        operator.afterPropertiesSet();
        JobExecution execution = operator.start(job, new JobParameters());
        if (!execution.getStatus().toString().equals("COMPLETED")) {
            throw new IllegalStateException(
                    "Spring Batch ended " + execution.getStatus() + ": " + execution.getAllFailureExceptions());
        }
    }
}
