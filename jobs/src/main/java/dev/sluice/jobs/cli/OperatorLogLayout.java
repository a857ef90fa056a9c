package dev.sluice.jobs.cli;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

import dev.sluice.engine.spec.Secrets;

import ch.qos.logback.classic.pattern.ThrowableProxyConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.LayoutBase;

/**
 * Log lines for operators: time, level, logger and message, one line each, passwords removed. A stack trace only
 * with {@code --verbose}: an operator reads what went wrong in one line; a developer asks for the rest.
 */
public final class OperatorLogLayout extends LayoutBase<ILoggingEvent> {

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());
    private static volatile boolean stackTraces;

    private final ThrowableProxyConverter throwables = new ThrowableProxyConverter();

    /** Whether log lines carry their exception's stack trace ({@code --verbose}). */
    public static void stackTraces(boolean on) {
        stackTraces = on;
    }

    @Override
    public void start() {
        throwables.start();
        super.start();
    }

    @Override
    public String doLayout(ILoggingEvent event) {
        String logger = event.getLoggerName();
        StringBuilder sb = new StringBuilder(128)
                .append(TIME.format(Instant.ofEpochMilli(event.getTimeStamp())))
                .append(' ')
                .append(String.format("%-5s", event.getLevel()))
                .append(' ')
                .append(logger.substring(logger.lastIndexOf('.') + 1))
                .append(" - ")
                .append(event.getFormattedMessage().lines().findFirst().orElse(""));
        if (event.getThrowableProxy() != null) {
            if (stackTraces) {
                sb.append('\n').append(throwables.convert(event));
            } else {
                String message = event.getThrowableProxy().getMessage();
                if (message != null && !event.getFormattedMessage().contains(message)) {
                    sb.append(": ").append(message.lines().findFirst().orElse(""));
                }
            }
        }
        return Secrets.redact(sb.append('\n').toString());
    }
}
