package dev.sluice.engine.chunk;

/** Told of each chunk after it has committed: progress displays, metrics. Called on the runner's thread; be quick. */
@FunctionalInterface
public interface ChunkObserver {

    ChunkObserver NONE = report -> { };

    void chunkCommitted(ChunkReport report);
}
