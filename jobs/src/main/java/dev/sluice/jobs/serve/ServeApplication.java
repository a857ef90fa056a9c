package dev.sluice.jobs.serve;

import java.time.Clock;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.scheduling.annotation.EnableScheduling;

import io.micrometer.core.instrument.MeterRegistry;

/** The Spring Boot application behind {@code sluice serve}. */
@SpringBootApplication(proxyBeanMethods = false)
@EnableScheduling
public class ServeApplication {

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
        return new JobScheduler(backfill, settings.config(), metrics, settings.standbys(), clock);
    }

    @Bean
    Clock clock() {
        return Clock.systemUTC();
    }

    @Bean
    RateHistory rateHistory() {
        return new RateHistory();
    }
}
