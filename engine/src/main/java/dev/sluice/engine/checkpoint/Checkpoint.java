package dev.sluice.engine.checkpoint;

import java.util.List;

import dev.sluice.engine.Key;
import dev.sluice.engine.KeyRange;

import org.springframework.batch.infrastructure.item.ExecutionContext;

import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * Where a job stands: the last key whose chunk has committed, and counters. It lives in the step's
 * ExecutionContext, which Spring Batch saves in the same transaction as the chunk's write.
 *
 * @param lastKey     the high key of the last committed chunk, or null before the first
 * @param rows        rows in the committed key ranges (what progress and rates count)
 * @param written     rows the writes changed (can be fewer: the spec's {@code where} filters)
 * @param chunks      committed chunks
 * @param rowsAtStart    {@code rows} when the current execution began, for its rate
 * @param writtenAtStart {@code written} when the current execution began
 * @param chunkRows      the chunk size the runner is using
 */
public record Checkpoint(
        Key lastKey, long rows, long written, long chunks, long rowsAtStart, long writtenAtStart, int chunkRows) {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String LAST_KEY = "sluice.lastKey";
    private static final String ROWS = "sluice.rows";
    private static final String WRITTEN = "sluice.written";
    private static final String CHUNKS = "sluice.chunks";
    private static final String ROWS_AT_START = "sluice.rowsAtStart";
    private static final String WRITTEN_AT_START = "sluice.writtenAtStart";
    private static final String CHUNK_ROWS = "sluice.chunkRows";
    private static final String LAST_ERROR = "sluice.lastError";
    private static final String STOP_REASON = "sluice.stopReason";
    private static final String WAL = "sluice.walAtExecution";

    public static Checkpoint from(ExecutionContext ec) {
        String key = ec.containsKey(LAST_KEY) ? ec.getString(LAST_KEY) : null;
        return new Checkpoint(
                key == null ? null : new Key(JSON.readValue(key, new TypeReference<List<String>>() {})),
                ec.getLong(ROWS, 0),
                ec.getLong(WRITTEN, 0),
                ec.getLong(CHUNKS, 0),
                ec.getLong(ROWS_AT_START, 0),
                ec.getLong(WRITTEN_AT_START, 0),
                ec.getInt(CHUNK_ROWS, 0));
    }

    /** The checkpoint after {@code range} commits. */
    public Checkpoint after(KeyRange range, long rowsWritten, int nextChunkRows) {
        return new Checkpoint(
                range.hi(),
                rows + range.rows(),
                written + rowsWritten,
                chunks + 1,
                rowsAtStart,
                writtenAtStart,
                nextChunkRows);
    }

    /** The same checkpoint, as the start of a new execution. */
    public Checkpoint startingExecution(int chunkRows) {
        return new Checkpoint(lastKey, rows, written, chunks, rows, written, chunkRows);
    }

    public void writeTo(ExecutionContext ec) {
        if (lastKey != null) {
            ec.putString(LAST_KEY, JSON.writeValueAsString(lastKey.values()));
        }
        ec.putLong(ROWS, rows);
        ec.putLong(WRITTEN, written);
        ec.putLong(CHUNKS, chunks);
        ec.putLong(ROWS_AT_START, rowsAtStart);
        ec.putLong(WRITTEN_AT_START, writtenAtStart);
        ec.putInt(CHUNK_ROWS, chunkRows);
    }

    /** This execution's WAL so far starts at 0 (kept beside the checkpoint, for the rate in status). */
    public static void startWal(ExecutionContext ec) {
        ec.putLong(WAL, 0);
    }

    /** Adds a chunk's WAL to this execution's; returns the new total. */
    public static long addWal(ExecutionContext ec, long bytes) {
        long total = ec.getLong(WAL, 0) + bytes;
        ec.putLong(WAL, total);
        return total;
    }

    /** Records why the execution failed (one line), or clears it with null. */
    public static void recordError(ExecutionContext ec, String error) {
        if (error == null) {
            ec.remove(LAST_ERROR);
        } else {
            ec.putString(LAST_ERROR, error);
        }
    }

    /** Why the last execution failed, or null. */
    public static String lastError(ExecutionContext ec) {
        return ec.containsKey(LAST_ERROR) ? ec.getString(LAST_ERROR) : null;
    }

    /** Records why the execution stops (an operator's pause or cancel, a signal), or clears it with null. */
    public static void recordStop(ExecutionContext ec, String reason) {
        if (reason == null) {
            ec.remove(STOP_REASON);
        } else {
            ec.putString(STOP_REASON, reason);
        }
    }

    /** Why the last execution stopped, or null. */
    public static String stopReason(ExecutionContext ec) {
        return ec.containsKey(STOP_REASON) ? ec.getString(STOP_REASON) : null;
    }
}
