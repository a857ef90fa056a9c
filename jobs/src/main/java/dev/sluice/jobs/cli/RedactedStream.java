package dev.sluice.jobs.cli;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

import dev.sluice.engine.spec.Secrets;

/**
 * Standard output or error with every password removed ({@link Secrets#redact}) on its way out, whoever prints:
 * Sluice's messages, picocli's, a driver's error, a stack trace under {@code --verbose}. Text is redacted a line at
 * a time (a progress bar redrawn with carriage returns, at each flush), so that a secret split across two writes is
 * still caught.
 */
final class RedactedStream extends OutputStream {

    // Between the wrapper and this stream text travels as UTF-8; the target encodes it as it always does.
    private static final Charset CHARSET = StandardCharsets.UTF_8;

    private final PrintStream target;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    private RedactedStream(PrintStream target) {
        this.target = target;
    }

    /** A print stream over {@code target} that redacts what passes through it. */
    static PrintStream over(PrintStream target) {
        return new PrintStream(new RedactedStream(target), true, CHARSET);
    }

    @Override
    public synchronized void write(int b) {
        line.write(b);
        if (b == '\n') {
            emit();
        }
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            write(b[i]);
        }
    }

    @Override
    public synchronized void flush() {
        emit();
        target.flush();
    }

    private void emit() {
        if (line.size() > 0) {
            target.print(Secrets.redact(line.toString(CHARSET)));
            line.reset();
        }
    }
}
