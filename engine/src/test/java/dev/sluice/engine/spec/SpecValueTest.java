package dev.sluice.engine.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The spec as a value: checked whoever builds it, and what it writes digested as before, so that a job recorded by an
 * earlier version resumes (a changed digest would refuse it as a changed transformation).
 */
class SpecValueTest {

    @Test
    void aSpecBuiltInCodeIsCheckedAsTheParserChecksIt() {
        assertThatThrownBy(() -> spec("Bad Name", "t", List.of("id"), Map.of("v", "1"), 1))
                .isInstanceOf(SpecException.class)
                .hasMessageStartingWith("name: ");
        assertThatThrownBy(() -> spec("ok", null, List.of("id"), Map.of("v", "1"), 1))
                .isInstanceOf(SpecException.class)
                .hasMessageStartingWith("table: ");
        assertThatThrownBy(() -> spec("ok", "t", List.of(), Map.of("v", "1"), 1))
                .isInstanceOf(SpecException.class)
                .hasMessageStartingWith("key: ");
        assertThatThrownBy(() -> spec("ok", "t", List.of("id"), Map.of(), 1))
                .isInstanceOf(SpecException.class)
                .hasMessageStartingWith("set: ");
        assertThatThrownBy(() -> spec("ok", "t", List.of("id"), Map.of("v", "1); DROP TABLE t; SELECT (1"), 1))
                .isInstanceOf(SpecException.class)
                .hasMessageStartingWith("set.v: ");
        assertThatThrownBy(() -> spec("ok", "t", List.of("id"), Map.of("v", "1"), 0))
                .isInstanceOf(SpecException.class)
                .hasMessageStartingWith("parallel: ");
        assertThat(spec("ok", "t", List.of("id"), Map.of("v", "1"), 2).parallel())
                .isEqualTo(2);
    }

    @Test
    void theParserSaysWhatTheValueRefuses() {
        assertThatThrownBy(() -> SpecParser.parse("name: ok\ntable: t\nkey: [id]\nset: { v: '1' }\nparallel: 0\n"))
                .isInstanceOf(SpecException.class)
                .hasMessageStartingWith("parallel: must be between 1 and");
    }

    // Digests of specs as 0.1 computed them (by the code before the public surface moved): pinned, so that a change
    // to the spec's model that would refuse recorded jobs' resumption fails here first.
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            in place      | name: a\\ntable: public.orders\\nkey: [id]\\nset: { email_lower: lower(email) }\\nwhere: email IS NOT NULL\\nsync: trigger\\n | b7c6c352a8838070ac7d8afcc2709c55
            copy          | name: b\\ntable: orders\\nkey: [tenant, id]\\ninto: orders_v2\\ncolumns: { tenant: tenant, id: id, email: lower(email) }\\n | 17a2e797b868df2c0644155f59e46f68
            cross-db copy | name: c\\ntable: orders\\nkey: [id]\\ninto: orders_v2\\ncolumns: { id: id, total: total }\\nsource: { jdbc-url: 'jdbc:postgresql://old-db:5432/app' }\\n | f11c0808ce8853479039bc68cb010119
            java          | name: d\\ntable: users\\nkey: [id]\\ntransformer: { name: phone-e164, columns: { phone: mobile }, with: { default-region: DE } }\\nundo: false\\n | d2b6588a24eddbb59189e38835c7d9bb
            """)
    void aRecordedSpecKeepsItsDigest(String mode, String yaml, String digest) {
        JobSpec spec = SpecParser.parse(yaml.replace("\\n", "\n"));
        assertThat(spec.semanticDigest()).as(mode).isEqualTo(digest);
        assertThat(SpecParser.parse(SpecParser.toYaml(spec)).semanticDigest())
                .as(mode + " recorded and read back")
                .isEqualTo(digest);
    }

    private static JobSpec spec(String name, String table, List<String> key, Map<String, String> set, int parallel) {
        return new JobSpec(
                name, table, key, null, set, null, null, null, null, null, null, null, parallel, null, null, null, null,
                null, null);
    }
}
