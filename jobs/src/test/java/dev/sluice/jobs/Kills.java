package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.JobStatus;
import dev.sluice.engine.testing.Eventually;

/**
 * The kill loop: runs a job in a JVM of its own again and again, killing it with SIGKILL (no shutdown hook, no
 * rollback by the client) a random number of chunks in and a random instant into a chunk, and checks what must hold
 * after each kill. The random seed is printed and named in every failure, so that a failing order of kills can be
 * replayed with {@code -Dsluice.kills.seed=SEED}.
 */
final class Kills {

    /** What must hold after each kill, given the job's status (its last committed checkpoint). */
    interface Check {
        void after(int kill, JobStatus status) throws Exception;
    }

    private Kills() {}

    /**
     * @param runArgs the command line of the runner
     * @param maxStep at most this many chunks between two kills
     * @return how many times the runner was killed (fewer than {@code times} if it finished first)
     */
    static int repeatedly(
            Path dir, String[] runArgs, Backfill backfill, String job, int times, int maxStep, Check check)
            throws Exception {
        long seed = Long.getLong("sluice.kills.seed", System.nanoTime());
        System.out.println("kill loop of job " + job + ": seed " + seed);
        Random random = new Random(seed);
        int kills = 0;
        long before = 0;
        while (kills < times) {
            Process runner = Cli.spawn(dir.resolve("kill-" + kills + ".log"), runArgs);
            long goal = before + 1 + random.nextInt(maxStep);
            JobStatus reached = Eventually.eventually(
                    Duration.ofSeconds(90),
                    job + " at chunk " + goal + " (seed " + seed + ")",
                    () -> backfill.status(job),
                    s -> s.chunks() >= goal || !runner.isAlive());
            if (!runner.isAlive()) {
                runner.waitFor();
                break; // finished before the kill
            }
            Thread.sleep(random.nextInt(12)); // land anywhere inside a chunk, or between two
            runner.destroyForcibly();
            assertThat(runner.waitFor())
                    .as("exit of the killed runner (seed %d)", seed)
                    .isEqualTo(137);
            // The killed runner's lock goes with its session, once the server notices the connection is gone.
            JobStatus status = Eventually.eventually(
                    Duration.ofSeconds(30),
                    job + " without a runner after kill " + (kills + 1) + " (seed " + seed + ")",
                    () -> backfill.status(job),
                    s -> !s.running());
            if (status.state() == JobStatus.State.COMPLETED) {
                // The job recorded its end between the status read and the kill (the JVM was still exiting): a kill
                // that landed after the work, not one that interrupted it.
                System.out.println("kill loop of job " + job + ": finished before kill " + (kills + 1));
                break;
            }
            kills++;
            assertThat(status.state())
                    .as("after kill %d (seed %d)", kills, seed)
                    .isEqualTo(JobStatus.State.FAILED);
            assertThat(status.lastError()).contains("runner ended without recording it");
            assertThat(status.chunks()).as("seed %d", seed).isGreaterThanOrEqualTo(Math.min(before, reached.chunks()));
            try {
                check.after(kills, status);
            } catch (AssertionError e) {
                throw new AssertionError("after kill " + kills + " (seed " + seed + "): " + e.getMessage(), e);
            }
            before = status.chunks();
        }
        return kills;
    }
}
