package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import dev.sluice.jobs.cli.DatabaseOptions;
import dev.sluice.jobs.serve.ServeCommand;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.context.ConfigurableApplicationContext;

import picocli.CommandLine;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The operator page in a real browser (Debian's chromium, driven by its chromedriver through Selenium), by
 * clicking: the controls stay off without a token, a wrong token is refused (entered, and sent with a click), the
 * right one pauses a running job (PAUSED in {@code sluice status}), tunes its rate, resumes it, the detail view shows
 * its chunks, validation and undo journal, and cancel asks for confirmation first.
 */
class OperatorPageBrowserTest extends CliDatabaseTest {

    private static final String TOKEN = "op-token-for-the-browser-test";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void anOperatorPausesTunesResumesAndCancelsAJobFromThePage() throws Exception {
        Path chromium = Installed.program("chromium", "chromium");
        Path chromedriver = Installed.program("chromedriver", "chromium-driver");
        db.counters("p", 60000);
        writeSpec("paged", """
                table: p
                key: [id]
                set: { n: n + 1 }
                chunk: { rows: 500, min-rows: 500, max-rows: 500 }
                throttle: { rows-per-second: 2000 }
                schedule: { cron: "* * * * * *" }
                """);
        DatabaseOptions options = new DatabaseOptions();
        new CommandLine(options)
                .parseArgs("--jdbc-url", ds.getJdbcUrl(), "--user", "postgres", "--config", dir.toString());
        ConfigurableApplicationContext app = ServeCommand.start(options, 0, TOKEN);
        WebDriver browser = browser(chromium, chromedriver);
        try {
            // The page rewrites a card's numbers every 2 s: a node read between two refreshes may be gone, read again.
            WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
            wait.ignoring(StaleElementReferenceException.class);
            browser.get("http://localhost:" + app.getEnvironment().getProperty("local.server.port") + "/");
            WebElement card = wait.until(
                    ExpectedConditions.presenceOfElementLocated(By.cssSelector("section.job[data-job='paged']")));
            wait.until(d -> card.getAttribute("data-state").matches("RUNNING|THROTTLED")
                    && !card.findElement(By.cssSelector(".rate")).getText().equals("0"));
            wait.until(d -> Double.parseDouble(card.findElement(By.cssSelector(".progress"))
                            .getCssValue("width")
                            .replace("px", ""))
                    > 0);

            // No token yet: the controls are off.
            assertThat(card.findElement(By.cssSelector("button.pause")).isEnabled())
                    .isFalse();

            // A wrong token is refused when entered...
            useToken(browser, "not-the-token");
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("token-state"), "token refused"));
            assertThat(card.findElement(By.cssSelector("button.pause")).isEnabled())
                    .isFalse();
            // ...and when a click sends it (a token left in the session from before, say): the job runs on.
            ((JavascriptExecutor) browser).executeScript("sessionStorage.setItem('sluice.token', 'stale-token')");
            wait.until(d -> card.findElement(By.cssSelector("button.pause")).isEnabled());
            card.findElement(By.cssSelector("button.pause")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(
                    By.id("message"), "missing or wrong bearer token"));
            assertThat(status("paged").path("state").asString()).matches("RUNNING|THROTTLED");

            // The right token: pause from the page, PAUSED in sluice status.
            useToken(browser, TOKEN);
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("token-state"), "token accepted"));
            wait.until(d -> card.findElement(By.cssSelector("button.pause")).isEnabled());
            card.findElement(By.cssSelector("button.pause")).click();
            wait.until(d -> status("paged").path("state").asString().equals("PAUSED"));
            wait.until(d -> "PAUSED".equals(card.getAttribute("data-state")));

            // Tune the rate, then resume: the runner takes the new limit.
            card.findElement(By.cssSelector(".rate-input")).sendKeys("700");
            card.findElement(By.cssSelector("button.tune")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("message"), "tune paged"));
            card.findElement(By.cssSelector("button.resume")).click();
            wait.until(d -> status("paged").path("state").asString().matches("RUNNING|THROTTLED"));
            wait.until(d -> status("paged").path("rowsPerSecondLimit").asLong() == 700);

            // The detail view: chunk durations against the target, throttle reasons, validation, undo journal.
            card.findElement(By.cssSelector("a.details")).click();
            WebElement detail = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("detail")));
            wait.until(d -> detail.getText().contains("Chunk durations against the target"));
            assertThat(detail.getText())
                    .contains(
                            "Throttle reasons over time",
                            "Partitions",
                            "Last validation",
                            "Undo journal",
                            "rows it can restore");
            assertThat(detail.findElements(By.id("chunk-chart"))).hasSize(1);
            screenshot(browser, "operator-page.png");

            // Cancel asks first: dismissed, the job runs on; accepted, it is CANCELLED.
            card.findElement(By.cssSelector("button.cancel")).click();
            wait.until(ExpectedConditions.alertIsPresent()).dismiss();
            Thread.sleep(2500); // a request sent anyway would have landed by now (the runner obeys within a chunk)
            assertThat(browser.findElement(By.id("message")).getText()).doesNotContain("cancel paged");
            assertThat(status("paged").path("state").asString()).matches("RUNNING|THROTTLED");
            card.findElement(By.cssSelector("button.cancel")).click();
            wait.until(ExpectedConditions.alertIsPresent()).accept();
            wait.until(d -> status("paged").path("state").asString().equals("CANCELLED"));
            assertThat(db.count("SELECT count(*) FROM p WHERE n > 1")).isZero();
        } finally {
            browser.quit();
            app.close();
        }
    }

    private static void useToken(WebDriver browser, String token) {
        WebElement field = browser.findElement(By.id("token"));
        field.clear();
        field.sendKeys(token);
        browser.findElement(By.id("token-use")).click();
    }

    /** The job as {@code sluice status JOB --json} prints it. */
    private JsonNode status(String job) {
        Cli.Result r = Cli.run(args("status", job, "--json"));
        assertThat(r.exitCode()).as(r.err()).isZero();
        return JSON.readTree(r.out().lines().findFirst().orElseThrow());
    }

    private void screenshot(WebDriver browser, String name) throws Exception {
        Path shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath();
        assertThat(Files.size(shot)).isGreaterThan(1000);
        String keep = System.getProperty("sluice.screenshots"); // to look at the page: -Dsluice.screenshots=DIR
        if (keep != null) {
            Files.copy(shot, Path.of(keep).resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Headless chromium; flags keep it off the network, which these machines do not reach. */
    private WebDriver browser(Path chromium, Path chromedriver) throws Exception {
        ChromeOptions o = new ChromeOptions();
        o.setBinary(chromium.toFile());
        o.addArguments(
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,1000",
                "--user-data-dir=" + Files.createTempDirectory(dir, "chromium"));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(chromedriver.toFile())
                .usingAnyFreePort()
                .withLogFile(dir.resolve("chromedriver.log").toFile())
                .build();
        return new ChromeDriver(service, o);
    }
}
