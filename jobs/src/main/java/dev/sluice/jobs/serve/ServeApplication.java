package dev.sluice.jobs.serve;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.boot.JobScheduler;
import dev.sluice.boot.SluiceAutoConfiguration;
import dev.sluice.engine.Actor;
import dev.sluice.engine.Backfill;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.jobs.cli.SpecFiles;
import dev.sluice.jobs.transformers.TransformerCatalog;

import io.micrometer.core.instrument.MeterRegistry;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.scheduling.annotation.EnableScheduling;

/** The Spring Boot application behind {@code sluice serve}. */
// serve configures its own Backfill and scheduler, and guards control with its bearer token: the starter's
// auto-configuration (and its /actuator/sluice, which would not ask for the token) stays out.
@SpringBootApplication(proxyBeanMethods = false, exclude = SluiceAutoConfiguration.class)
@EnableScheduling
public class ServeApplication {

    private static final Logger LOG = LoggerFactory.getLogger(ServeApplication.class);

    /** Closed last: beans that use it (the scheduler, through the backfill) are destroyed before it. */
    @Bean(destroyMethod = "close")
    HikariDataSource dataSource(ServeSettings settings) {
        return settings.dataSource();
    }

    @Bean
    Backfill backfill(HikariDataSource dataSource, ServeSettings settings) {
        return Backfill.builder(dataSource)
                .schema(settings.schema())
                .transformers(TransformerCatalog.INSTANCE)
                .sources(settings.sources())
                .actor(Actor.process("serve"))
                .build();
    }

    @Bean(initMethod = "start", destroyMethod = "close")
    JobScheduler jobScheduler(Backfill backfill, ServeSettings settings, MeterRegistry metrics, Clock clock) {
        return new JobScheduler(
                backfill, specs(settings.config().resolve("jobs")), metrics, settings.standbys(), clock);
    }

    /** The specs under {@code config/jobs}; one that does not parse is left out with an error line naming it. */
    static List<JobSpec> specs(Path dir) {
        try {
            return SpecFiles.under(dir, (file, e) -> LOG.error("skipping {}: {}", file, e.getMessage()));
        } catch (IOException e) {
            throw new IllegalStateException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    @Bean
    Clock clock() {
        return Clock.systemUTC();
    }

    @Bean
    JobHistory jobHistory() {
        return new JobHistory();
    }
}
