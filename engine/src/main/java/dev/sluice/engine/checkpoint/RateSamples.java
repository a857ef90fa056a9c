package dev.sluice.engine.checkpoint;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.springframework.batch.infrastructure.item.ExecutionContext;

/**
 * The recent past of an execution, kept with its checkpoint so that {@code status} in any process can say how fast
 * the job goes now: rows covered and rows written at most every few seconds over the last minute. Small on purpose:
 * the step's context is written with every chunk, and its size is WAL.
 */
public final class RateSamples {

    static final String KEY = "sluice.rateSamples";
    // The rate is shown over the last minute; one sample every five seconds makes that window exact to a
    // twelfth and keeps the record under a kilobyte.
    static final long WINDOW_MILLIS = 60_000;
    static final long EVERY_MILLIS = 5_000;

    /** One point: when, and the execution's totals then (rows covered, rows written, WAL bytes written). */
    public record Sample(long atMillis, long processed, long written, long wal) {}

    /** The rates over the window that ends at {@code now}'s sample. */
    public record Rates(double processedPerSecond, double writtenPerSecond, double walBytesPerSecond) {
        static final Rates NONE = new Rates(0, 0, 0);
    }

    private RateSamples() {}

    /** Starts an execution's record at its checkpoint. */
    public static void start(ExecutionContext ec, long nowMillis) {
        ec.putString(KEY, format(List.of(new Sample(nowMillis, 0, 0, 0))));
    }

    /** Adds the totals after a chunk: a new sample if the last is old enough, else the last one moves. */
    public static void record(ExecutionContext ec, long nowMillis, long processed, long written, long wal) {
        List<Sample> samples = new ArrayList<>(samples(ec));
        Sample now = new Sample(nowMillis, processed, written, wal);
        if (samples.size() >= 2 && nowMillis - samples.get(samples.size() - 2).atMillis() < EVERY_MILLIS) {
            samples.set(samples.size() - 1, now);
        } else {
            samples.add(now);
        }
        // Keep one sample at or before the window's start, so the window is always covered.
        while (samples.size() > 2 && samples.get(1).atMillis() <= nowMillis - WINDOW_MILLIS) {
            samples.remove(0);
        }
        ec.putString(KEY, format(samples));
    }

    /** Rates over the last minute up to the newest sample (the whole record if it is shorter), from a run's notes. */
    public static Rates recent(Map<String, String> notes) {
        List<Sample> samples = parse(notes.get(KEY));
        if (samples.size() < 2) {
            return Rates.NONE;
        }
        Sample last = samples.get(samples.size() - 1);
        Sample first = samples.get(0);
        for (Sample s : samples) {
            if (s.atMillis() >= last.atMillis() - WINDOW_MILLIS) {
                break;
            }
            first = s;
        }
        double seconds = (last.atMillis() - first.atMillis()) / 1000.0;
        return seconds <= 0
                ? Rates.NONE
                : new Rates(
                        (last.processed() - first.processed()) / seconds,
                        (last.written() - first.written()) / seconds,
                        (last.wal() - first.wal()) / seconds);
    }

    private static List<Sample> samples(ExecutionContext ec) {
        return parse(ec.containsKey(KEY) ? ec.getString(KEY) : null);
    }

    private static List<Sample> parse(String text) {
        List<Sample> out = new ArrayList<>();
        if (text == null) {
            return out;
        }
        for (String part : text.split(";", -1)) {
            String[] f = part.split(",", -1);
            if (f.length >= 3) {
                out.add(new Sample(
                        Long.parseLong(f[0]),
                        Long.parseLong(f[1]),
                        Long.parseLong(f[2]),
                        f.length > 3 ? Long.parseLong(f[3]) : 0));
            }
        }
        return out;
    }

    private static String format(List<Sample> samples) {
        StringBuilder sb = new StringBuilder();
        for (Sample s : samples) {
            if (!sb.isEmpty()) {
                sb.append(';');
            }
            sb.append(s.atMillis())
                    .append(',')
                    .append(s.processed())
                    .append(',')
                    .append(s.written())
                    .append(',')
                    .append(s.wal());
        }
        return sb.toString();
    }
}
