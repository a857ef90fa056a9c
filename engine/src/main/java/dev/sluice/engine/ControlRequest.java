package dev.sluice.engine;

import java.time.Duration;

/**
 * What an operator asks of a job: pause it, cancel its work, or change its throttle.
 *
 * @param rowsPerSecond for TUNE: the new rate (0 = unlimited), or null to leave it
 * @param chunkTarget   for TUNE: the new chunk target duration, or null to leave it
 */
public record ControlRequest(Command command, Long rowsPerSecond, Duration chunkTarget) {

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
