package dev.sluice.engine;

/**
 * One committed chunk, as observers see it.
 *
 * @param totalRows rows of the job so far, this chunk included
 * @param chunks    chunks of the job so far, this chunk included
 * @param walBytes  the WAL written while the chunk ran
 */
public record ChunkReport(KeyRange range, long written, long nanos, long totalRows, long chunks, long walBytes) {}
