package dev.sluice.jobs.cli;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;

/**
 * The operator's log on the console: each line written whole, never into the middle of the progress bar a terminal
 * shows on the same screen (see {@link ConsoleLine}).
 */
public final class OperatorConsoleAppender extends ConsoleAppender<ILoggingEvent> {

    @Override
    protected void subAppend(ILoggingEvent event) {
        ConsoleLine.around(() -> super.subAppend(event));
    }
}
