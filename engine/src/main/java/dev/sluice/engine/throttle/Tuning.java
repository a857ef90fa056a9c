package dev.sluice.engine.throttle;

import java.time.Duration;

/**
 * Throttle settings an operator changed while the job runs ({@code sluice tune}); the pacer and the sizer read
 * them before each chunk. Null means: as the spec says.
 */
public final class Tuning {

    private volatile Long rowsPerSecond;
    private volatile Duration chunkTarget;

    public void rowsPerSecond(long rate) {
        this.rowsPerSecond = rate;
    }

    public void chunkTarget(Duration target) {
        this.chunkTarget = target;
    }

    public Long rowsPerSecond() {
        return rowsPerSecond;
    }

    public Duration chunkTarget() {
        return chunkTarget;
    }
}
