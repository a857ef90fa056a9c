package dev.sluice.jobs;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import dev.sluice.engine.Backfill;
import dev.sluice.engine.control.JobStatus;

/** Runs a job in a JVM of its own again and again, killing it with SIGKILL a random number of chunks in. */
final class Kills {

    /** What must hold after each kill, given the job's status (its last committed checkpoint). */
    interface Check {
        void after(int kill, JobStatus status) throws Exception;
    }

    private Kills() {
    }

    /**
     * @param runArgs  the command line of the runner
     * @param maxStep  at most this many chunks between two kills
     * @return how many times the runner was killed (fewer than {@code times} if it finished first)
     */
    static int repeatedly(Path dir, String[] runArgs, Backfill backfill, String job, int times, int maxStep, Check check)
            throws Exception {
        Random random = new Random();
        int kills = 0;
        long before = 0;
        while (kills < times) {
            Process runner = Cli.spawn(dir.resolve("kill-" + kills + ".log"), runArgs);
            long goal = before + 1 + random.nextInt(maxStep);
            boolean killed = false;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (runner.isAlive() && System.nanoTime() < deadline) {
                List<JobStatus> s = backfill.status(job);
                if (!s.isEmpty() && s.get(0).chunks() >= goal) {
                    Thread.sleep(random.nextInt(10));
                    runner.destroyForcibly();
                    killed = true;
                    break;
                }
                Thread.sleep(5);
            }
            runner.waitFor();
            if (!killed) {
                break;
            }
            kills++;
            JobStatus status = backfill.status(job).get(0);
            check.after(kills, status);
            before = status.chunks();
        }
        return kills;
    }
}
