package dev.sluice.engine;

/**
 * A job the contract step waits for is not done: {@link Backfill#require} throws it with the same one-line message
 * {@code sluice require} prints, for a Flyway migration or a Liquibase precondition to fail with.
 */
public final class JobNotDoneException extends IllegalStateException {

    private final String job;

    public JobNotDoneException(String job, String message) {
        super(message);
        this.job = job;
    }

    /** The first job found not done. */
    public String job() {
        return job;
    }
}
