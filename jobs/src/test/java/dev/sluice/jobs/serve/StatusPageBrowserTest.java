package dev.sluice.jobs.serve;

import dev.sluice.engine.testing.Eventually;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Postgres;
import dev.sluice.jobs.cli.DatabaseOptions;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;

import picocli.CommandLine;

/**
 * The status page in a real headless browser (Debian's chromium): loaded while a job runs, its script fetches
 * the API and draws the job with its state, progress bar, rate and chart.
 */
class StatusPageBrowserTest {

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void showsARunningJobWithItsStateProgressAndRate() throws Exception {
        Path chromium = chromium();
        try (HikariDataSource ds = Postgres.newDatabase()) {
            new Db(ds).counters("p", 60000);
            Files.createDirectories(dir.resolve("jobs"));
            Files.writeString(dir.resolve("jobs/paged.yml"), """
                    name: paged
                    table: p
                    key: [id]
                    set: { n: n + 1 }
                    chunk: { rows: 500, min-rows: 500, max-rows: 500 }
                    throttle: { rows-per-second: 2000 }
                    schedule: { cron: "* * * * * *" }
                    """);
            DatabaseOptions options = new DatabaseOptions();
            new CommandLine(options).parseArgs("--jdbc-url", ds.getJdbcUrl(), "--user", "postgres", "--config", dir.toString());
            ConfigurableApplicationContext app = ServeCommand.start(options, 0, null);
            try {
                Backfill backfill = new Backfill(ds);
                Eventually.eventually(java.time.Duration.ofSeconds(60), "six chunks",
                        () -> backfill.status("paged").get(0).chunks() >= 6);
                String url = "http://localhost:" + app.getEnvironment().getProperty("local.server.port") + "/";
                String dom = run(chromium, "--dump-dom", url);
                run(chromium, "--screenshot=" + dir.resolve("status-page.png"), "--window-size=1280,400", url);

                assertThat(dom).contains("data-job=\"paged\"").contains("refreshes every 2 s");
                assertThat(dom).containsPattern("data-state=\"(RUNNING|THROTTLED)\"");
                Matcher width = Pattern.compile("class=\"progress\" style=\"width:\\s*([0-9.]+)%").matcher(dom);
                assertThat(width.find()).as("a progress bar in:\n" + dom).isTrue();
                assertThat(Double.parseDouble(width.group(1))).isBetween(0.5, 99.9);
                Matcher rate = Pattern.compile("class=\"rate\">([0-9,]+)<").matcher(dom);
                assertThat(rate.find()).isTrue();
                assertThat(Integer.parseInt(rate.group(1).replace(",", ""))).isBetween(500, 4000);
                assertThat(Files.size(dir.resolve("status-page.png"))).isGreaterThan(1000);
                String keep = System.getProperty("sluice.screenshots"); // to look at the page: -Dsluice.screenshots=DIR
                if (keep != null) {
                    Files.copy(dir.resolve("status-page.png"), Path.of(keep).resolve("status-page.png"),
                            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                app.close();
            }
        }
    }

    private String run(Path chromium, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + Files.createTempDirectory(dir, "chromium"),
                "--virtual-time-budget=5000"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectError(dir.resolve("chromium.err").toFile()).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("chromium did not finish in 90 s");
        }
        return new String(out);
    }

    /** Debian's chromium: found, or installed (this test machine is root with Debian's package registry). */
    private static Path chromium() throws Exception {
        Path path = Path.of("/usr/bin/chromium");
        if (!Files.isExecutable(path) && Files.isExecutable(Path.of("/usr/bin/apt-get"))) {
            Process install = new ProcessBuilder("sh", "-c",
                    "(apt-get install -y -q chromium || (apt-get update -q && apt-get install -y -q chromium))")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            install.waitFor(6, TimeUnit.MINUTES);
        }
        Assumptions.assumeTrue(Files.isExecutable(path),
                "skipped: Debian's chromium is not installed and could not be installed here (apt-get install chromium)");
        return path;
    }
}
