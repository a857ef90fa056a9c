package dev.sluice.engine.preflight;

import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecException;

/** Refuses the modes this build cannot run yet, instead of half-running them. */
final class ModeCheck {

    private ModeCheck() {
    }

    static Finding check(JobSpec spec) {
        return switch (spec.mode()) {
            case IN_PLACE -> Finding.ok("mode", "in-place: one UPDATE per chunk");
            case COPY -> throw new SpecException("into", "copy mode is not supported by this version of Sluice yet");
            case JAVA -> throw new SpecException("transformer", "Java transformers are not supported by this version of Sluice yet");
        };
    }
}
