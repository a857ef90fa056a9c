package dev.sluice.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import dev.sluice.engine.testing.TransformerJar;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Transformers with parameters ({@code transformer: { name, columns, with }}) on tables named the way real tables
 * are, and a transformer shipped in a jar of its own, found by ServiceLoader.
 */
class TransformerOptionsTest extends CliDatabaseTest {

    @Test
    void phoneNumbersOfATableWithoutACountryColumnAreReadInTheDefaultRegionAndRolledBack() throws Exception {
        db.exec(
                "CREATE TABLE people (id bigint PRIMARY KEY, mobile text, mobile_e164 text)",
                "INSERT INTO people SELECT g, CASE g % 3 WHEN 0 THEN '(650) 253-' || lpad((g % 10000)::text, 4, '0')"
                        + " WHEN 1 THEN '+49 30 ' || (1000000 + g) ELSE 'call me' END, NULL FROM generate_series(1, 2000) g");
        String before = db.one("SELECT md5(string_agg(p::text, ',' ORDER BY id)) FROM people p");
        writeSpec("people-phones", """
                table: people
                key: [id]
                transformer:
                  name: phone-e164
                  columns: { phone: mobile, phone_e164: mobile_e164 }
                  with: { default-region: US }
                chunk: { rows: 300 }
                """);
        Cli.Result plan = Cli.run(args("plan", "people-phones"));
        assertThat(plan.exitCode()).as(plan.err()).isZero();
        assertThat(plan.out())
                .contains("java: transformer phone-e164 reads [mobile], writes [mobile_e164] with"
                        + " {default-region=US}")
                .contains("has no column 'country'");

        Cli.Result run = Cli.run(args("run", "people-phones"));
        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        assertThat(db.one("SELECT mobile_e164 FROM people WHERE id = 3")).isEqualTo("+16502530003");
        assertThat(db.one("SELECT mobile_e164 FROM people WHERE id = 4")).isEqualTo("+49301000004");
        assertThat(db.count("SELECT count(*) FROM people WHERE id % 3 = 2 AND mobile_e164 IS NOT NULL"))
                .isZero();
        assertThat(db.count("SELECT count(*) FROM people WHERE id % 3 <> 2 AND mobile_e164 NOT LIKE '+%'"))
                .isZero();

        // The undo journal holds the table's columns: the rollback restores them.
        Cli.Result rollback = Cli.run(args("rollback", "people-phones"));
        assertThat(rollback.exitCode()).as(rollback.out() + rollback.err()).isZero();
        assertThat(db.one("SELECT md5(string_agg(p::text, ',' ORDER BY id)) FROM people p"))
                .isEqualTo(before);
    }

    @Test
    void aMappedCountryColumnIsReadAndTheDefaultRegionStandsInWhereItIsEmpty() throws Exception {
        db.exec(
                "CREATE TABLE customers (customer_id int PRIMARY KEY, tel text, cc char(2), tel_norm text, country text)",
                "INSERT INTO customers VALUES (1, '030 1234567', NULL, NULL, 'US'), (2, '030 1234567', 'DE', NULL, 'US'),"
                        + " (3, '(650) 253-0000', 'us', NULL, 'DE'), (4, '030 1234567', '', NULL, NULL)");
        writeSpec("customer-phones", """
                table: customers
                key: [customer_id]
                transformer: { name: phone-e164, columns: { phone: tel, phone_e164: tel_norm, country: cc },
                               with: { default-region: de } }
                """);
        Cli.Result run = Cli.run(args("run", "customer-phones"));
        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        // cc is read, not the table's column named country; an empty cc reads as the default region.
        assertThat(db.one("SELECT string_agg(coalesce(tel_norm, '-'), ' ' ORDER BY customer_id) FROM customers"))
                .isEqualTo("+49301234567 +49301234567 +16502530000 +49301234567");
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void emailHmacTakesItsKeyFromTheEnvironmentVariableTheSpecNames() throws Exception {
        db.exec(
                "CREATE TABLE accounts (id int PRIMARY KEY, address text, address_hmac text)",
                "INSERT INTO accounts SELECT g, ' User' || g || '@Example.org' FROM generate_series(1, 500) g");
        writeSpec("account-hmac", """
                table: accounts
                key: [id]
                transformer: { name: email-hmac, columns: { email: address, email_hmac: address_hmac },
                               with: { key-env: ACCOUNTS_HMAC_KEY } }
                """);
        String key = "a-key-of-forty-bytes-for-the-accounts-01";
        Path log = dir.resolve("hmac.log");
        Process p = Cli.spawn(log, Map.of("ACCOUNTS_HMAC_KEY", key), List.of(), args("run", "account-hmac"));
        assertThat(p.waitFor(90, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(Files.readString(log)).isZero();
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        assertThat(db.one("SELECT address_hmac FROM accounts WHERE id = 7"))
                .isEqualTo(HexFormat.of().formatHex(mac.doFinal("user7@example.org".getBytes(StandardCharsets.UTF_8))));
        assertThat(db.count("SELECT count(*) FROM accounts WHERE address_hmac IS NULL"))
                .isZero();
        assertThat(Files.readString(log)).doesNotContain(key);
    }

    /** Jars built against the interface's name before 0.2 keep working for a release (the old name is deprecated). */
    @ParameterizedTest
    @EnumSource(TransformerJar.Api.class)
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void aTeamsOwnTransformerInAJarOfItsOwnIsFoundByServiceLoader(TransformerJar.Api api) throws Exception {
        db.exec(
                "CREATE TABLE authors (id int PRIMARY KEY, full_name text, initials text)",
                "INSERT INTO authors VALUES (1, 'Ada King Lovelace', NULL), (2, 'alan turing', NULL), (3, NULL, 'x')");
        writeSpec("author-initials", """
                table: authors
                key: [id]
                transformer: { name: initials, columns: { name: full_name }, with: { separator: "." } }
                """);
        // Without the jar, the name is unknown: refused before anything is written.
        Cli.Result without = Cli.run(args("run", "author-initials"));
        assertThat(without.exitCode()).isEqualTo(2);
        assertThat(without.err()).startsWith("sluice: transformer.name: no transformer named 'initials'");
        assertThat(db.exists("sluice.batch_job_instance")).as("no job record").isFalse();

        Path jar = TransformerJar.build(dir.resolve("team-transformers"), api);
        Path log = dir.resolve("initials.log");
        Process p = Cli.spawn(log, Map.of(), List.of(jar), args("run", "author-initials"));
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(Files.readString(log)).isZero();
        assertThat(db.one("SELECT string_agg(coalesce(initials, '-'), ' ' ORDER BY id) FROM authors"))
                .isEqualTo("A.K.L. A.T. x"); // no name: the row is left as it was

        // Its options are checked like the built-in ones'.
        writeSpec("author-initials-bad", """
                table: authors
                key: [id]
                transformer: { name: initials, columns: { name: full_name }, with: { separator: "--" } }
                """);
        Process bad = Cli.spawn(log, Map.of(), List.of(jar), args("run", "author-initials-bad"));
        assertThat(bad.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(bad.exitValue()).isEqualTo(2);
        assertThat(Files.readString(log)).contains("sluice: transformer.with.separator: ");
    }
}
