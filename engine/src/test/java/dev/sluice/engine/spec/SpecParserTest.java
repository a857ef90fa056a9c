package dev.sluice.engine.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SpecParserTest {

    private static final String DESIGN_EXAMPLE = """
            name: orders-email-lower          # [a-z0-9_-]+, unique per database
            table: public.orders              # schema-qualified or search_path
            key: [id]
            where: "email_lower IS NULL"
            set:
              email_lower: lower(email)
            chunk:   { rows: 1000, target: 250ms, min-rows: 100, max-rows: 100000 }
            throttle: { rows-per-second: 0, pause: 0ms }
            health:
              replica-lag: { max: 5s }
              replicas: []
              slot-lag: { max-bytes: 1GB }
              poll: 1s
            timeouts: { lock: 1s, statement: 30s }
            validate:
              - { target: email_lower, source: lower(email) }
            schedule: { cron: "0 */5 1-5 * * *", window: "01:00-05:00 UTC" }
            """;

    private static final String MINIMAL = "name: j\ntable: t\nkey: [id]\nset: { v: 1 }\n";

    @Test
    void readsTheSpecOfTheDesign() {
        JobSpec spec = SpecParser.parse(DESIGN_EXAMPLE);
        assertThat(spec.name()).isEqualTo("orders-email-lower");
        assertThat(spec.table()).isEqualTo("public.orders");
        assertThat(spec.key()).containsExactly("id");
        assertThat(spec.where()).isEqualTo("email_lower IS NULL");
        assertThat(spec.set()).containsExactly(Map.entry("email_lower", "lower(email)"));
        assertThat(spec.mode()).isEqualTo(JobSpec.Mode.IN_PLACE);
        assertThat(spec.chunk()).isEqualTo(new JobSpec.Chunk(1000, Duration.ofMillis(250), 100, 100_000));
        assertThat(spec.throttle()).isEqualTo(new JobSpec.Throttle(0L, Duration.ZERO));
        assertThat(spec.health().replicaLag().max()).isEqualTo(Duration.ofSeconds(5));
        assertThat(spec.health().slotLag().maxBytes().bytes()).isEqualTo(1L << 30);
        assertThat(spec.timeouts())
                .isEqualTo(new JobSpec.Timeouts(Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(60)));
        assertThat(spec.validate()).containsExactly(new JobSpec.ValidationRule("email_lower", "lower(email)", null));
        assertThat(spec.schedule().window()).isEqualTo("01:00-05:00 UTC");
    }

    @Test
    void fillsDefaultsAndRoundTripsThroughYaml() {
        JobSpec spec = SpecParser.parse(MINIMAL + "key: id\n".replace("key: id\n", ""));
        assertThat(spec.chunk().rows()).isEqualTo(1000);
        assertThat(spec.timeouts().lock()).isEqualTo(Duration.ofSeconds(1));
        JobSpec again = SpecParser.parse(SpecParser.toYaml(SpecParser.parse(DESIGN_EXAMPLE)));
        assertThat(again).isEqualTo(SpecParser.parse(DESIGN_EXAMPLE));
    }

    @Test
    void aSingleKeyColumnMayBeWrittenWithoutBrackets() {
        assertThat(SpecParser.parse("name: j\ntable: t\nkey: id\nset: { v: 1 }\n")
                        .key())
                .containsExactly("id");
    }

    @Test
    void theSemanticDigestChangesWithWhatIsWrittenOnly() {
        String base = SpecParser.parse(MINIMAL).semanticDigest();
        assertThat(SpecParser.parse(MINIMAL + "chunk: { rows: 50, min-rows: 10 }\nthrottle: { rows-per-second: 9 }\n")
                        .semanticDigest())
                .isEqualTo(base);
        assertThat(SpecParser.parse(MINIMAL.replace("v: 1", "v: 2")).semanticDigest())
                .isNotEqualTo(base);
        assertThat(SpecParser.parse(MINIMAL + "where: v IS NULL\n").semanticDigest())
                .isNotEqualTo(base);
    }

    @Test
    void aTransformerInTheShortFormKeepsTheDigestJobsWereRecordedWith() {
        // The digest jobs recorded before transformers took columns and options (the first 16 bytes of the SHA-256
        // of the semantic fields' text): such a job still resumes. The long form's parts count.
        String shortForm = "name: j\ntable: t\nkey: [id]\ntransformer: phone-e164\n";
        assertThat(SpecParser.parse(shortForm).semanticDigest()).isEqualTo("a5866da6771721d588ed70b590401638");
        assertThat(SpecParser.parse(shortForm.replace("phone-e164", "{ name: phone-e164 }"))
                        .semanticDigest())
                .isEqualTo("a5866da6771721d588ed70b590401638");
        assertThat(SpecParser.parse(shortForm.replace("phone-e164", "{ name: phone-e164, columns: { phone: phone } }"))
                        .semanticDigest())
                .as("a name mapped to itself")
                .isEqualTo("a5866da6771721d588ed70b590401638");
        assertThat(SpecParser.parse(shortForm.replace("phone-e164", "{ name: phone-e164, columns: { phone: mobile } }"))
                        .semanticDigest())
                .isNotEqualTo("a5866da6771721d588ed70b590401638");
        assertThat(SpecParser.parse(
                                shortForm.replace("phone-e164", "{ name: phone-e164, with: { default-region: DE } }"))
                        .semanticDigest())
                .isNotEqualTo("a5866da6771721d588ed70b590401638");
        JobSpec longForm = SpecParser.parse(shortForm.replace(
                "phone-e164", "{ name: phone-e164, columns: { phone: mobile }, with: { default-region: DE } }"));
        assertThat(SpecParser.parse(SpecParser.toYaml(longForm))).isEqualTo(longForm);
        assertThat(longForm.transformer().column("phone")).isEqualTo("mobile");
        assertThat(longForm.transformer().column("country")).isEqualTo("country");
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', textBlock = """
            chunk: { rowz: 5 }                     | chunk.rowz: unknown key (known keys: max-rows, min-rows, rows, target)
            chunk: { rows: abc }                   | chunk.rows: expected a whole number, got 'abc'
            chunk: { rows: 2.5 }                   | chunk.rows: expected a whole number, got '2.5'
            chunk: { target: 25x }                 | chunk.target: bad duration '25x' (write e.g. 250ms, 2s, 5m, 1h)
            chunk: { target: 250 }                 | chunk.target: duration '250' needs a unit (ms, s, m, h or d)
            chunk: { target: 0ms }                 | chunk.target: must be longer than 0
            chunk: { rows: 50, min-rows: 100 }     | chunk.rows: 50 is less than chunk.min-rows (100)
            chunk: { rows: 0 }                     | chunk.rows: must be at least 1, got 0
            chunk: { max-rows: 10, min-rows: 20 }  | chunk.min-rows: 20 is more than chunk.max-rows (10)
            timeouts: { lock: -1s }                | timeouts.lock: bad duration '-1s' (write e.g. 250ms, 2s, 5m, 1h)
            health: { slot-lag: { max-bytes: 1XB } } | health.slot-lag.max-bytes: bad size '1XB' (write e.g. 512MB, 1GB, 1048576)
            throttle: { rows-per-second: -5 }      | throttle.rows-per-second: must be 0 (unlimited) or more, got -5
            where: "true; DROP TABLE t"            | where: must be exactly one SQL expression: ';' would end the statement
            where: "true -- everything"            | where: must be exactly one SQL expression: a -- comment (end it with a line break) is not closed
            set: { v: "coalesce(a, b" }            | set.v: must be exactly one SQL expression: 1 '(' not closed (inside a YAML { } mapping, quote an expression that contains commas)
            into: t2                               | set: choose one of set, into + columns, or transformer
            validate: [ { target: v } ]            | validate[0]: a comparison needs both target and source
            set: lower(email)                      | set: expected a mapping (key: value lines), got 'lower(email)'
            health: { prometheus: { query: up } }  | health.prometheus.url: is required: an http:// or https:// URL
            health: { prometheus: { url: "http://p:9090" } } | health.prometheus.query: is required: a PromQL query returning one number
            health: { prometheus: { url: "http://p:9090", query: " " } } | health.prometheus.query: is required: a PromQL query returning one number
            health: { prometheus: { url: "ftp://p", query: up } } | health.prometheus.url: must be an http:// or https:// URL, got ftp://p
            health: { prometheus: { url: "http://ops:s3cret@p:9090", query: up } } | health.prometheus.url: must not carry a user or password
            health: { prometheus: { url: "http://p:9090", query: up, max: high } } | health.prometheus.max: expected a number, got 'high'
            health: { prometheus: { url: "http://p:9090", query: up, step: 1 } } | health.prometheus.step: unknown key (known keys: max, query, url)
            health: { http: { url: "p:9090/throttle" } } | health.http.url: must be an http:// or https:// URL, got p:9090/throttle
            health: { http: { url: "http:///throttle" } } | health.http.url: has no host: http:///throttle
            health: { http: {} }                   | health.http.url: is required: an http:// or https:// URL
            notify: [ { on: [completed] } ]        | notify[0].webhook: give one of webhook (a URL) or webhook-env (the environment variable that holds it)
            notify: [ { webhook: "http://h/x", webhook-env: HOOK, on: [failed] } ] | notify[0].webhook: give one of webhook (a URL) or webhook-env (the environment variable that holds it)
            notify: [ { webhook: "http://u:pw@h/x", on: [failed] } ] | notify[0].webhook: must not carry a user or password
            notify: [ { webhook-env: "1HOOK", on: [failed] } ] | notify[0].webhook-env: must be the name of the environment variable that holds the URL (letters, digits and _)
            notify: [ { webhook: "http://h/x" } ]  | notify[0].on: is required: the events to post, of started, resumed, completed, validated, mismatches, failed, paused, stopped, cancelled, rolled-back, finished, held
            notify: [ { webhook: "http://h/x", on: [completed, done] } ] | notify[0].on[1]: unknown event 'done' (known: started, resumed, completed, validated, mismatches, failed, paused, stopped, cancelled, rolled-back, finished, held)
            notify: [ { webhook: "http://h/x", on: [held], held-for: 0s } ] | notify[0].held-for: must be longer than 0
            notify: [ { webhook: "http://h/x", on: [failed], header: { name: X-Token, value: s3cret } } ] | notify[0].header.value: unknown key (known keys: env, name)
            notify: [ { webhook: "http://h/x", on: [failed], header: { name: "X Token", env: TOKEN } } ] | notify[0].header.name: must be an HTTP header's name, got 'X Token'
            notify: [ { webhook: "http://h/x", on: [failed], header: { name: X-Token } } ] | notify[0].header.env: must be the name of the environment variable that holds the header's value (letters, digits and _; a secret is never written in a spec)
            notify: [ { webhook: "http://h/x", on: [failed], header: { name: Host, env: H } } ] | notify[0].header.name: 'Host' is set by the HTTP client itself; use another header (Authorization, X-...)
            notify: [ { webhook: "http://h/x", on: [failed], secret: x } ] | notify[0].secret: unknown key (known keys: header, held-for, on, webhook, webhook-env)
            """)
    void rejectsBadSpecsNamingTheField(String extra, String message) {
        assertThatThrownBy(() -> SpecParser.parse(
                        MINIMAL.replace("set: { v: 1 }\n", extra.startsWith("set:") ? "" : "set: { v: 1 }\n") + extra
                                + "\n"))
                .isInstanceOf(SpecException.class)
                .hasMessage(message);
    }

    /** Every boolean field takes YAML's true or false only: a number is not taken for one. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            undo: 0                                 | undo: expected true or false, got '0'
            undo: 1                                 | undo: expected true or false, got '1'
            undo: 0.0                               | undo: expected true or false, got '0.0'
            undo: yes                               | undo: expected true or false, got 'yes'
            undo: ""                                | undo: expected true or false, got ''
            health: { autovacuum: 2 }               | health.autovacuum: expected true or false, got '2'
            health: { autovacuum: 0 }               | health.autovacuum: expected true or false, got '0'
            validate-after-run: 0                   | validate-after-run: expected true or false, got '0'
            sync: 1                                 | sync: expected one of none, trigger, got '1'
            """)
    void booleansAndChoicesAreNeverNumbers(String extra, String message) {
        assertThat(message(MINIMAL + extra + "\n")).isEqualTo(message);
    }

    @Test
    void booleansAreReadAsWritten() {
        assertThat(SpecParser.parse(MINIMAL + "undo: false\n").undo()).isFalse();
        assertThat(SpecParser.parse(MINIMAL + "health: { autovacuum: false }\n")
                        .health()
                        .autovacuum())
                .isFalse();
        assertThat(SpecParser.parse(MINIMAL + "validate-after-run: true\n").validateAfterRun())
                .isTrue();
    }

    /** Every numeric, size and duration field beyond what it holds: one line, the field and the value as written. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            chunk: { rows: 99999999999999999999 }            | chunk.rows: 99999999999999999999 is too large (at most 2147483647)
            chunk: { max-rows: 2147483648 }                  | chunk.max-rows: 2147483648 is too large (at most 2147483647)
            chunk: { min-rows: -99999999999 }                | chunk.min-rows: -99999999999 is too small (at least -2147483648)
            chunk: { rows: "99999999999999999999" }          | chunk.rows: 99999999999999999999 is too large (at most 2147483647)
            chunk: { rows: "" }                              | chunk.rows: expected a whole number, got ''
            parallel: 99999999999                            | parallel: 99999999999 is too large (at most 2147483647)
            parallel: 1e3                                    | parallel: expected a whole number, got '1e3'
            throttle: { rows-per-second: 99999999999999999999 } | throttle.rows-per-second: 99999999999999999999 is too large (at most 9223372036854775807)
            throttle: { validate-rows-per-second: 9223372036854775808 } | throttle.validate-rows-per-second: 9223372036854775808 is too large (at most 9223372036854775807)
            health: { active-sessions: { max: 99999999999 } } | health.active-sessions.max: 99999999999 is too large (at most 2147483647)
            health: { query: { sql: "SELECT 1", max: 1e400 } } | health.query.max: 1e400 is too large (at most 1.7976931348623157E308)
            health: { query: { sql: "SELECT 1", max: .nan } }  | health.query.max: '.nan' is not a number
            health: { query: { sql: "SELECT 1", max: .inf } }  | health.query.max: '.inf' is not a number
            health: { query: { sql: "SELECT 1", max: yes } }   | health.query.max: expected a number, got 'yes'
            health: { slot-lag: { max-bytes: 99999999999999999999 } } | health.slot-lag.max-bytes: 99999999999999999999 is too large (at most 9223372036854775807 bytes)
            health: { replica-lag: { max-bytes: 99999999999TB } } | health.replica-lag.max-bytes: 99999999999TB is too large (at most 9223372036854775807 bytes)
            throttle: { wal-bytes-per-second: 99999999999999999999GB } | throttle.wal-bytes-per-second: 99999999999999999999GB is too large (at most 9223372036854775807 bytes)
            chunk: { target: 99999999999999999999999999999s } | chunk.target: 99999999999999999999999999999s is too long (at most 2147483647ms, about 24 days)
            timeouts: { statement: 30d }                     | timeouts.statement: 30d is too long (at most 2147483647ms, about 24 days)
            timeouts: { lock: 2147483648ms }                 | timeouts.lock: 2147483648ms is too long (at most 2147483647ms, about 24 days)
            throttle: { pause: 100000h }                     | throttle.pause: 100000h is too long (at most 2147483647ms, about 24 days)
            """)
    void numbersSizesAndDurationsOutOfRangeAreNamedInTheOperatorsWords(String extra, String message) {
        assertThat(message(MINIMAL + extra + "\n")).isEqualTo(message);
    }

    /** A YAML syntax error says where it is, under which key, and how to fix the usual cause: quoting an expression. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            where: a: b                                | where: not valid YAML at line 5, column 9: mapping values are not allowed here (quote a value or expression that holds ': ' or ',', e.g. where: "a: b")
            health: { query: { sql: SELECT a: b } }    | health.query.sql: not valid YAML at line 5, column 33: expected ',' or '}', but got : (quote a value or expression that holds ': ' or ',', e.g. where: "a: b")
            validate: [ { check: x = 'a: b' } ]        | validate[0].check: not valid YAML at line 5, column 28: expected ',' or '}', but got : (quote a value or expression that holds ': ' or ',', e.g. where: "a: b")
            where: `x`                                 | where: not valid YAML at line 5, column 8: found character '`' that cannot start any token. (Do not use ` for indentation) (quote a value that starts with this character)
            where: @x                                  | where: not valid YAML at line 5, column 8: found character '@' that cannot start any token. (Do not use @ for indentation) (quote a value that starts with this character)
            """)
    void yamlSyntaxErrorsSayWhereAndHowToFixThem(String extra, String message) {
        assertThat(message(MINIMAL + extra + "\n")).isEqualTo(message);
    }

    @Test
    void aCommaInAnUnquotedExpressionSaysToQuoteIt() {
        assertThat(message(MINIMAL + "validate: [ { check: a = b, c } ]\n"))
                .isEqualTo("validate[0].c: unknown key (known"
                        + " keys: check, source, target); if it is the end of an expression, quote the expression: inside { } a"
                        + " ',' ends it");
        assertThat(message(MINIMAL + "chunk: { rowz: 5 }\n")).doesNotContain("quote");
        assertThat(message("name: j\ntable: t\nkey: [id]\nset: { v: lower(email), w: a, b }\n"))
                .isEqualTo(
                        "set.b: no expression (inside a YAML { } mapping, a ',' ends the expression before it: quote an"
                                + " expression that holds one)");
        assertThat(message("name: j\ntable: t\nkey: [id]\nset:\n  v: case when a then 'x: y' end\n"))
                .startsWith("set.v: not valid YAML at line 5, column 25: mapping values are not allowed here");
    }

    @Test
    void rejectsMissingAndMalformedFields() {
        assertThat(message("table: t\nkey: [id]\nset: { v: 1 }\n")).isEqualTo("name: missing");
        assertThat(message("name: Orders!\ntable: t\nkey: [id]\nset: { v: 1 }\n"))
                .isEqualTo("name: 'Orders!' may use only a-z, 0-9, '_' and '-'");
        assertThat(message("name: j\ntable: t\nset: { v: 1 }\n")).startsWith("key: missing");
        assertThat(message("name: j\ntable: t\nkey: [id, id]\nset: { v: 1 }\n"))
                .isEqualTo("key: column 'id' is listed twice");
        assertThat(message("name: j\ntable: t\nkey: [id]\n")).startsWith("set: missing");
        assertThat(message("name: j\nname: k\ntable: t\nkey: [id]\nset: { v: 1 }\n"))
                .isEqualTo("name: appears twice");
        assertThat(message("")).isEqualTo("the job spec is empty");
        assertThat(message("- a\n- b\n")).isEqualTo("expected a mapping (key: value lines)");
    }

    @Test
    void doublesJdbcPlaceholdersOutsideQuotesOnly() {
        assertThat(SqlFragments.forJdbc("data ? 'k' AND note = 'why?'")).isEqualTo("data ?? 'k' AND note = 'why?'");
        assertThat(SqlFragments.forJdbc("tags ?| array['a']")).isEqualTo("tags ??| array['a']");
    }

    @Test
    void parsesDurationsAndSizesAsOperatorsWriteThem() {
        assertThat(List.of(
                        Durations.parse("250ms"), Durations.parse("1.5s"), Durations.parse("5m"), Durations.parse("0")))
                .containsExactly(Duration.ofMillis(250), Duration.ofMillis(1500), Duration.ofMinutes(5), Duration.ZERO);
        assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
        assertThat(ByteSize.parse("512MB").bytes()).isEqualTo(512L << 20);
        assertThat(ByteSize.parse("1048576").toString()).isEqualTo("1MB");
    }

    private static String message(String yaml) {
        try {
            SpecParser.parse(yaml);
            return "(parsed)";
        } catch (SpecException e) {
            return e.getMessage();
        }
    }
}
