package dev.sluice.jobs.serve;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.jobs.cli.DatabaseOptions;
import dev.sluice.jobs.cli.ExitCode;
import dev.sluice.jobs.cli.Ports;

import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.event.ContextClosedEvent;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code sluice serve}: the scheduler for every spec under {@code config/jobs}, a status page at {@code /}, the
 * job API at {@code /api/jobs}, and metrics at {@code /actuator/prometheus}. SIGTERM finishes running chunks and
 * leaves the jobs STOPPED, resumable.
 */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        description = "Scheduler, status page at /, metrics at /actuator/prometheus.")
public class ServeCommand implements Callable<Integer> {

    @Option(
            names = "--port",
            defaultValue = "8080",
            description = "HTTP port (default: ${DEFAULT-VALUE}; 0 = any free)")
    int port;

    @Option(
            names = "--token",
            description = "bearer token for pause/resume/cancel over HTTP (prefer SLUICE_TOKEN or"
                    + " sluice.serve.token in application.yml)")
    String token;

    @Mixin
    DatabaseOptions db;

    @Override
    public Integer call() throws Exception {
        Ports.check("--port", port);
        db.check();
        CountDownLatch closed = new CountDownLatch(1);
        ConfigurableApplicationContext context = start(db, port, token != null ? token : db.serveToken());
        context.addApplicationListener(e -> {
            if (e instanceof ContextClosedEvent) {
                closed.countDown();
            }
        });
        System.out.println("sluice serve: http://localhost:"
                + context.getEnvironment().getProperty("local.server.port") + "/ (metrics at /actuator/prometheus)");
        closed.await();
        return ExitCode.DONE;
    }

    /** Starts the application; tests call this to run several instances in one JVM. */
    public static ConfigurableApplicationContext start(DatabaseOptions db, int port, String token) {
        HikariDataSource ds = db.open("sluice serve");
        ServeSettings settings = new ServeSettings(ds, db.schema(), db.config(), token, db.standbys(), db.sources());
        SpringApplication app = new SpringApplication(ServeApplication.class);
        Map<String, Object> props = new HashMap<>();
        props.put("server.port", port);
        props.put("spring.main.banner-mode", "off");
        props.put("management.endpoints.web.exposure.include", "health,prometheus");
        props.put("server.shutdown", "graceful");
        app.setDefaultProperties(props);
        app.addInitializers(ctx -> ctx.getBeanFactory().registerSingleton("serveSettings", settings));
        return app.run();
    }
}
