package dev.sluice.examples;

import dev.sluice.engine.testing.PublicSurface;

import org.junit.jupiter.api.Test;

/** This module uses the engine's public packages only (dev.sluice.engine, .spec, .spi); the build fails otherwise. */
class PublicSurfaceTest {

    @Test
    void usesTheEnginesPublicPackagesOnly() {
        PublicSurface.check("dev.sluice.examples..");
    }
}
