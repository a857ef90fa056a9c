package dev.sluice.jobs.transformers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import dev.sluice.engine.spi.Transformer;

import org.junit.jupiter.api.Test;

class ExampleTransformersTest {

    @Test
    void phoneNumbersBecomeE164OrNullNeverAGuess() {
        PhoneE164 t = new PhoneE164();
        assertThat(t.e164("(650) 253-0000", null)).isEqualTo("+16502530000");
        assertThat(t.e164("030 1234567", "DE")).isEqualTo("+49301234567");
        assertThat(t.e164("+44 20 7946 0958", "de")).isEqualTo("+442079460958");
        assertThat(t.e164("12", "DE")).isNull();
        assertThat(t.e164("call me", null)).isNull();
        assertThat(t.e164(null, "DE")).isNull();
    }

    @Test
    void profilesAreReshapedToVersionTwoKeepingUnknownFields() {
        ProfileJsonV2 t = new ProfileJsonV2();
        assertThat(
                        t.reshape(
                                "{\"first\":\"Ada\",\"last\":\"Lovelace\",\"tel\":\"+441234\",\"newsletter\":\"yes\",\"lang\":\"en\"}"))
                .isEqualTo(
                        "{\"version\":2,\"name\":{\"given\":\"Ada\",\"family\":\"Lovelace\"},\"contact\":{\"phone\":\"+441234\"},"
                                + "\"consents\":{\"newsletter\":true},\"extra\":{\"lang\":\"en\"}}");
        assertThat(t.reshape("[1,2]")).isNull();
        assertThat(t.reshape("not json")).isNull();
    }

    @Test
    void emailsAreHashedWithAKeyedHmacOfTheNormalisedAddress() {
        EmailHmac t = new EmailHmac("SLUICE_HMAC_KEY", "k".repeat(32));
        Transformer.Row row = row("email", "  Ada@Example.COM ");
        Map<String, Object> out = t.transform(row);
        assertThat(out.get("email_hmac")).isEqualTo(t.hmac("ada@example.com"));
        assertThat((String) out.get("email_hmac"))
                .hasSize(64)
                .isNotEqualTo(new EmailHmac("SLUICE_HMAC_KEY", "x".repeat(32)).hmac("ada@example.com"));
        assertThatThrownBy(() -> new EmailHmac("SLUICE_HMAC_KEY", "short").transform(row))
                .hasMessageContaining("SLUICE_HMAC_KEY");
    }

    @Test
    void theCatalogFindsTheShippedTransformersAndServiceLoadedOnes() {
        assertThat(TransformerCatalog.INSTANCE.names())
                .containsExactly("email-hmac", "email-lower-dollars", "phone-e164", "profile-json-v2");
        assertThat(TransformerCatalog.INSTANCE.find("phone-e164")).isInstanceOf(PhoneE164.class);
        assertThat(TransformerCatalog.INSTANCE.find("increment")).isNotNull();
        assertThat(TransformerCatalog.INSTANCE.find("nope")).isNull();
    }

    private static Transformer.Row row(String column, String value) {
        return new Transformer.Row() {
            @Override
            public String text(String c) {
                return c.equals(column) ? value : null;
            }

            @Override
            public Object value(String c) {
                return text(c);
            }
        };
    }
}
