package dev.sluice.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import dev.sluice.engine.ChunkObserver;
import dev.sluice.engine.ChunkReport;
import dev.sluice.engine.Key;
import dev.sluice.engine.KeyRange;

import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;

/**
 * The console as an operator's terminal shows it: the progress bar and the log share one screen, and a log line (a
 * throttle warning, on standard error) never lands in the middle of the bar; output that is not a terminal carries
 * no control codes.
 */
class ConsoleLineTest {

    private static ChunkReport chunk(long rows, long chunks) {
        return new ChunkReport(
                new KeyRange(new Key(List.of(String.valueOf(rows - 100))), new Key(List.of(String.valueOf(rows))), 100),
                100,
                1_000_000,
                rows,
                chunks,
                0);
    }

    @Test
    void aLogLineWhileTheBarIsDrawnStandsOnALineOfItsOwnAndTheBarComesBackBelowIt() throws Exception {
        ByteArrayOutputStream screen = new ByteArrayOutputStream();
        PrintStream terminal = new PrintStream(screen, true, StandardCharsets.UTF_8);
        PrintStream err = System.err;
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        OperatorConsoleAppender appender = new OperatorConsoleAppender();
        appender.setContext(context);
        appender.setTarget("System.err");
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(context);
        OperatorLogLayout layout = new OperatorLogLayout();
        layout.setContext(context);
        layout.start();
        encoder.setLayout(layout);
        encoder.start();
        appender.setEncoder(encoder);
        Logger logger = context.getLogger("dev.sluice.engine.checkpoint.ThrottleRecorder");
        System.setErr(terminal); // both streams on one screen, as in a terminal
        try {
            appender.start();
            logger.addAppender(appender);
            logger.setAdditive(false);
            logger.setLevel(Level.WARN);
            Progress progress = new Progress(terminal, true, "sluice: running t");
            progress.started(ChunkObserver.Phase.BACKFILL, 10_000, 0);
            Thread.sleep(250); // a bar is drawn at most five times a second
            progress.chunkCommitted(chunk(1000, 10));
            logger.warn("job t throttled: replica lag 7s over 5s");
            Thread.sleep(250);
            progress.chunkCommitted(chunk(2000, 20));
            progress.finish();
        } finally {
            logger.detachAppender(appender);
            appender.stop();
            System.setErr(err);
        }
        String shown = screen.toString(StandardCharsets.UTF_8);
        int warning = shown.indexOf(" WARN ");
        assertThat(warning).as(shown).isPositive();
        int line = shown.lastIndexOf("\u001b[K", warning) + 3;
        assertThat(shown.substring(line, warning))
                .as("the log line's start: %s", shown)
                .matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3}");
        assertThat(shown.substring(line - 4, line))
                .as("the bar wiped before it: %s", shown)
                .isEqualTo("\r\u001b[K");
        assertThat(shown.substring(shown.indexOf('\n', warning) + 1))
                .as("the bar drawn again below it")
                .startsWith("[###");
    }

    @Test
    void outputThatIsNotATerminalCarriesNoControlCodes() {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(file, true, StandardCharsets.UTF_8);
        assertThat(ConsoleLine.terminal()).as("the tests' output is a pipe").isFalse();
        Progress progress = new Progress(out, ConsoleLine.terminal(), "sluice: running t");
        progress.started(ChunkObserver.Phase.BACKFILL, 10_000, 500);
        progress.chunkCommitted(chunk(1000, 10));
        progress.finish();
        String written = file.toString(StandardCharsets.UTF_8);
        assertThat(written)
                .startsWith("sluice: running t\n")
                .doesNotContain("\u001b")
                .doesNotContain("\r");
    }
}
