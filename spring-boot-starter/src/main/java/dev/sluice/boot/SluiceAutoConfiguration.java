package dev.sluice.boot;

import java.sql.DriverManager;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

import javax.sql.DataSource;

import dev.sluice.engine.Actor;
import dev.sluice.engine.Backfill;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spi.Transformer;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.support.ResourcePatternResolver;

/**
 * Sluice in a Spring Boot application: a {@link Backfill} on the application's DataSource (job repository in
 * {@code sluice.schema}, meters in the application's MeterRegistry, transformers from {@link Transformer.Catalog}
 * beans and the class path), the jobs under {@code classpath:sluice/jobs/*.yml} and the application's
 * {@link JobSpec} beans run on their schedules and windows, and {@code /actuator/sluice} where Actuator is present.
 * Several instances of the application share the work: a job's advisory lock lets one runner in at a time.
 * Every bean backs off when the application defines its own.
 */
@AutoConfiguration(
        afterName = {
            "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
            "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
            "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration"
        })
@ConditionalOnClass(Backfill.class)
@ConditionalOnSingleCandidate(DataSource.class)
@EnableConfigurationProperties(SluiceProperties.class)
public class SluiceAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    public Backfill sluiceBackfill(
            DataSource dataSource, SluiceProperties properties, ObjectProvider<Transformer.Catalog> catalogs) {
        List<Transformer.Catalog> all = new ArrayList<>(catalogs.orderedStream().toList());
        all.add(Transformer.Catalog.installed(null));
        return Backfill.builder(dataSource)
                .schema(properties.getSchema())
                .transformers(Transformer.Catalog.chain(all))
                .actor(Actor.process("application"))
                .build();
    }

    @Bean
    @ConditionalOnMissingBean
    public SluiceJobs sluiceJobs(
            ResourcePatternResolver resolver, SluiceProperties properties, ObjectProvider<JobSpec> beans) {
        List<JobSpec> specs = new ArrayList<>(SluiceJobs.read(resolver, properties.getJobs()));
        beans.orderedStream().forEach(specs::add);
        return new SluiceJobs(specs);
    }

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    @ConditionalOnBooleanProperty(name = "sluice.scheduling", matchIfMissing = true)
    public JobScheduler sluiceScheduler(Backfill backfill, SluiceJobs jobs, ObjectProvider<MeterRegistry> registry) {
        return new JobScheduler(
                backfill,
                jobs.specs(),
                registry.getIfAvailable(() -> Metrics.globalRegistry),
                DriverManager::getConnection,
                Clock.systemUTC());
    }

    /** The application as a remote worker, when {@code sluice.worker.threads} is above 0. */
    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnExpression("${sluice.worker.threads:0} > 0")
    public SluiceWorker sluiceWorker(Backfill backfill, SluiceProperties properties) {
        return new SluiceWorker(backfill, properties.getWorker().getThreads());
    }

    /**
     * The schedules start once the application is ready: after its own start-up work, the Flyway or Liquibase
     * migrations that create the columns a job fills among it.
     */
    @Bean
    @ConditionalOnBean(JobScheduler.class)
    public ApplicationListener<ApplicationReadyEvent> sluiceSchedulerStart(JobScheduler scheduler) {
        return event -> scheduler.start();
    }

    /** {@code /actuator/sluice}, where the application has Actuator. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.annotation.Endpoint")
    static class EndpointConfiguration {

        @Bean
        @ConditionalOnMissingBean
        @ConditionalOnAvailableEndpoint
        SluiceEndpoint sluiceEndpoint(Backfill backfill, SluiceJobs jobs, ObjectProvider<JobScheduler> scheduler) {
            JobScheduler s = scheduler.getIfAvailable();
            return new SluiceEndpoint(new JobOperations(backfill, s, s != null ? s.specs() : jobs.specs(), "actuator"));
        }
    }
}
