package dev.sluice.jobs.serve;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Timer;

/**
 * Each job's recent past for the status page: sampled every two seconds, kept for the last {@link #SAMPLES}
 * samples. A point holds the rate of rows since the previous sample, the chunk size, why chunks were held back (if
 * they were), and the mean chunk duration over the interval where this instance runs the job (its timer is here).
 */
public final class JobHistory {

    // Ten minutes at one sample every two seconds: enough to see a throttle or a slowdown come and go.
    static final int SAMPLES = 300;

    /**
     * One point.
     *
     * @param chunkSeconds mean duration of the chunks committed since the previous sample, null when none was or the
     *                     job runs in another process
     */
    public record Point(
            long epochMillis,
            String state,
            double rowsPerSecond,
            int chunkRows,
            Double chunkSeconds,
            String throttleReason) {}

    /** What a job looked like at a sample. */
    public record Sample(String state, long rows, int chunkRows, String throttleReason, Timer chunkTimer) {}

    private record Last(long epochMillis, long rows, long chunks, double chunkSeconds) {}

    private final Map<String, Deque<Point>> points = new ConcurrentHashMap<>();
    private final Map<String, Last> last = new ConcurrentHashMap<>();

    public void record(String job, long epochMillis, Sample s) {
        long chunks = s.chunkTimer() == null ? 0 : s.chunkTimer().count();
        double total = s.chunkTimer() == null ? 0 : s.chunkTimer().totalTime(TimeUnit.SECONDS);
        Last previous = last.put(job, new Last(epochMillis, s.rows(), chunks, total));
        if (previous == null || epochMillis <= previous.epochMillis()) {
            return;
        }
        double rate = Math.max(0, s.rows() - previous.rows()) * 1000.0 / (epochMillis - previous.epochMillis());
        Double chunkSeconds = chunks > previous.chunks()
                ? Math.round((total - previous.chunkSeconds()) / (chunks - previous.chunks()) * 10000) / 10000.0
                : null;
        Deque<Point> series = points.computeIfAbsent(job, k -> new ArrayDeque<>());
        synchronized (series) {
            series.addLast(new Point(
                    epochMillis,
                    s.state(),
                    Math.round(rate * 10) / 10.0,
                    s.chunkRows(),
                    chunkSeconds,
                    s.throttleReason()));
            while (series.size() > SAMPLES) {
                series.removeFirst();
            }
        }
    }

    public List<Point> of(String job) {
        Deque<Point> series = points.get(job);
        if (series == null) {
            return List.of();
        }
        synchronized (series) {
            return new ArrayList<>(series);
        }
    }
}
