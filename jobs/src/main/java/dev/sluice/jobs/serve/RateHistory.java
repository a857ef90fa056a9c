package dev.sluice.jobs.serve;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Rows per second of each job over the recent past, for the status page's chart: sampled from the job's row
 * count every two seconds, kept for the last {@link #SAMPLES} samples.
 */
public final class RateHistory {

    // Ten minutes at one sample every two seconds: enough to see a throttle or a slowdown come and go.
    static final int SAMPLES = 300;

    /** One point: when, and the rate since the previous sample. */
    public record Point(long epochMillis, double rowsPerSecond) {
    }

    private record Sample(long epochMillis, long rows) {
    }

    private final Map<String, Deque<Point>> points = new ConcurrentHashMap<>();
    private final Map<String, Sample> last = new ConcurrentHashMap<>();

    public void record(String job, long rows, long epochMillis) {
        Sample previous = last.put(job, new Sample(epochMillis, rows));
        if (previous == null || epochMillis <= previous.epochMillis()) {
            return;
        }
        double rate = Math.max(0, rows - previous.rows()) * 1000.0 / (epochMillis - previous.epochMillis());
        Deque<Point> series = points.computeIfAbsent(job, k -> new ArrayDeque<>());
        synchronized (series) {
            series.addLast(new Point(epochMillis, Math.round(rate * 10) / 10.0));
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
