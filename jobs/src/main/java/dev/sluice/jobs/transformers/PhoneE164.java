package dev.sluice.jobs.transformers;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonenumber;

import dev.sluice.engine.chunk.Transformer;

/**
 * {@code transformer: phone-e164}: normalises {@code phone} (as users typed it) into {@code phone_e164}
 * ({@code +4930123456}) with Google's libphonenumber, reading numbers without a country code as {@code country}
 * (ISO 3166 code, e.g. DE) or, when that is empty, as US numbers. Numbers it cannot parse or that are not valid
 * get NULL, never a guess.
 */
public final class PhoneE164 implements Transformer {

    public static final String NAME = "phone-e164";
    // The default region when a row has no country: the one most legacy data in such columns was entered in.
    static final String DEFAULT_REGION = "US";

    private final PhoneNumberUtil phones = PhoneNumberUtil.getInstance();

    @Override
    public List<String> reads() {
        return List.of("phone", "country");
    }

    @Override
    public List<String> writes() {
        return List.of("phone_e164");
    }

    @Override
    public Map<String, Object> transform(Row row) {
        Map<String, Object> out = new HashMap<>();
        out.put("phone_e164", e164(row.text("phone"), row.text("country")));
        return out;
    }

    String e164(String raw, String country) {
        if (raw == null || raw.isBlank()) {
            return null;
        }
        String region = country == null || country.isBlank() ? DEFAULT_REGION : country.trim().toUpperCase();
        try {
            Phonenumber.PhoneNumber number = phones.parse(raw, region);
            return phones.isValidNumber(number) ? phones.format(number, PhoneNumberUtil.PhoneNumberFormat.E164) : null;
        } catch (NumberParseException e) {
            return null;
        }
    }
}
