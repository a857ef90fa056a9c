package dev.sluice.jobs.cli;

/** The database could not be reached; the message names it (password masked) and the driver's reason. */
public class DatabaseUnavailableException extends RuntimeException {

    public DatabaseUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
