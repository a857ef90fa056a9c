package dev.sluice.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecParser;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.core.io.support.PathMatchingResourcePatternResolver;

/** An application's job specs: read in name order; a bad one or two of one name stop the application at start. */
class SluiceJobsTest {

    @TempDir
    Path dir;

    private static final String GOOD = "name: %s\ntable: t\nkey: [id]\nset: { v: 1 }\n";

    @Test
    void specsAreReadInNameOrderAndABadOneNamesItsFileAndField() throws Exception {
        Files.writeString(dir.resolve("b.yml"), GOOD.formatted("second"));
        Files.writeString(dir.resolve("a.yml"), GOOD.formatted("first"));
        List<JobSpec> specs =
                SluiceJobs.read(new PathMatchingResourcePatternResolver(), List.of("file:" + dir + "/*.yml"));
        assertThat(specs).extracting(JobSpec::name).containsExactly("first", "second");

        Files.writeString(dir.resolve("c.yml"), GOOD.formatted("third") + "chunk: { rowz: 5 }\n");
        assertThatThrownBy(() ->
                        SluiceJobs.read(new PathMatchingResourcePatternResolver(), List.of("file:" + dir + "/*.yml")))
                .hasMessageContaining("c.yml")
                .hasMessageContaining("chunk.rowz: unknown key");
    }

    @Test
    void twoJobsOfOneNameAreRefused() {
        JobSpec one = SpecParser.parse(GOOD.formatted("same"));
        assertThatThrownBy(() -> new SluiceJobs(List.of(one, one)))
                .hasMessageContaining("two Sluice jobs are named same");
    }
}
