package dev.sluice.jobs.serve;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.boot.JobScheduler;
import dev.sluice.engine.Backfill;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.SpecParser;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.scheduling.annotation.EnableScheduling;

import io.micrometer.core.instrument.MeterRegistry;

/** The Spring Boot application behind {@code sluice serve}. */
// serve configures its own Backfill and scheduler, and guards control with its bearer token: the starter's
// auto-configuration (and its /actuator/sluice, which would not ask for the token) stays out.
@SpringBootApplication(proxyBeanMethods = false, exclude = dev.sluice.boot.SluiceAutoConfiguration.class)
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
        return Backfill.builder(dataSource).schema(settings.schema())
                .transformers(dev.sluice.jobs.transformers.TransformerCatalog.INSTANCE).sources(settings.sources()).build();
    }

    @Bean(initMethod = "start", destroyMethod = "close")
    JobScheduler jobScheduler(Backfill backfill, ServeSettings settings, MeterRegistry metrics, Clock clock) {
        return new JobScheduler(backfill, specs(settings.config().resolve("jobs")), metrics, settings.standbys(), clock);
    }

    /** The specs under {@code config/jobs}; one that does not parse is left out with an error line naming it. */
    static List<JobSpec> specs(Path dir) {
        List<JobSpec> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yml") || p.toString().endsWith(".yaml")).sorted().toList()) {
                try {
                    out.add(SpecParser.read(f));
                } catch (SpecException e) {
                    LOG.error("skipping {}: {}", f, e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        return out;
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
