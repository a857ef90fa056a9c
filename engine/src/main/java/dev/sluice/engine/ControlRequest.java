package dev.sluice.engine;

import java.time.Duration;
import java.util.Objects;

/**
 * What an operator asks of a job: pause it, cancel its work, or change its throttle.
 *
 * @param rowsPerSecond for TUNE: the new rate (0 = unlimited), or null to leave it
 * @param chunkTarget   for TUNE: the new chunk target duration, or null to leave it
 */
public record ControlRequest(Command command, Long rowsPerSecond, Duration chunkTarget) {

    /** @throws IllegalArgumentException for a request that asks nothing, or a throttle of a pause or cancel */
    public ControlRequest {
        Objects.requireNonNull(command, "command");
        if (command == Command.TUNE && rowsPerSecond == null && chunkTarget == null) {
            throw new IllegalArgumentException("a tune needs a rate or a chunk target");
        }
        if (command != Command.TUNE && (rowsPerSecond != null || chunkTarget != null)) {
            throw new IllegalArgumentException("only a tune takes a rate or a chunk target");
        }
        if (rowsPerSecond != null && rowsPerSecond < 0) {
            throw new IllegalArgumentException("rowsPerSecond must be 0 (unlimited) or more, got " + rowsPerSecond);
        }
        if (chunkTarget != null && (chunkTarget.isNegative() || chunkTarget.isZero())) {
            throw new IllegalArgumentException("chunkTarget must be positive, got " + chunkTarget);
        }
    }

    /** What an operator can ask of a job. */
    public enum Command {
        PAUSE,
        CANCEL,
        TUNE
    }

    public static ControlRequest pause() {
        return new ControlRequest(Command.PAUSE, null, null);
    }

    public static ControlRequest cancel() {
        return new ControlRequest(Command.CANCEL, null, null);
    }

    /** A new throttle: {@code rowsPerSecond} (0 = unlimited) and/or {@code chunkTarget}, null to leave either. */
    public static ControlRequest tune(Long rowsPerSecond, Duration chunkTarget) {
        return new ControlRequest(Command.TUNE, rowsPerSecond, chunkTarget);
    }
}
