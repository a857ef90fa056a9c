package dev.sluice.jobs.transformers;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonenumber;

import dev.sluice.engine.spi.Transformer;

/**
 * {@code transformer: phone-e164}: normalises {@code phone} (as users typed it) into {@code phone_e164}
 * ({@code +4930123456}) with Google's libphonenumber, reading numbers without a country code as {@code country}
 * (ISO 3166 code, e.g. DE) or, when that is empty, as numbers of the default region (US unless
 * {@code with: { default-region: XX }}). Without the option the table must have the country column; with it, the
 * column is read if the table has it (or {@code columns} maps it) and every number is read in the default region
 * otherwise. Numbers it cannot parse or that are not valid get NULL, never a guess.
 */
public final class PhoneE164 implements Transformer {

    public static final String NAME = "phone-e164";
    // The default region when a row has no country: the one most legacy data in such columns was entered in.
    static final String DEFAULT_REGION = "US";

    static final String DEFAULT_REGION_OPTION = "default-region";

    private final PhoneNumberUtil phones = PhoneNumberUtil.getInstance();
    private final String defaultRegion;
    private final boolean countryOptional;

    public PhoneE164() {
        this(DEFAULT_REGION, false);
    }

    private PhoneE164(String defaultRegion, boolean countryOptional) {
        this.defaultRegion = defaultRegion;
        this.countryOptional = countryOptional;
    }

    @Override
    public Set<String> options() {
        return Set.of(DEFAULT_REGION_OPTION);
    }

    @Override
    public Transformer with(Map<String, String> options) {
        String region = options.get(DEFAULT_REGION_OPTION);
        if (region == null) {
            return this;
        }
        String code = region.trim().toUpperCase(Locale.ROOT);
        if (!phones.getSupportedRegions().contains(code)) {
            throw new BadOption(
                    DEFAULT_REGION_OPTION,
                    "'" + region + "' is not a region code libphonenumber knows"
                            + " (ISO 3166 alpha-2, e.g. US, DE, GB)");
        }
        return new PhoneE164(code, true);
    }

    @Override
    public List<String> reads() {
        return countryOptional ? List.of("phone") : List.of("phone", "country");
    }

    @Override
    public List<String> readsIfPresent() {
        return countryOptional ? List.of("country") : List.of();
    }

    @Override
    public List<String> writes() {
        return List.of("phone_e164");
    }

    /** The same row gives the same value: a validation runs it again and compares (without rules of the spec's). */
    @Override
    public Check check() {
        return Check.RECOMPUTE;
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
        String region = country == null || country.isBlank()
                ? defaultRegion
                : country.trim().toUpperCase(Locale.ROOT);
        try {
            Phonenumber.PhoneNumber number = phones.parse(raw, region);
            return phones.isValidNumber(number) ? phones.format(number, PhoneNumberUtil.PhoneNumberFormat.E164) : null;
        } catch (NumberParseException e) {
            return null;
        }
    }
}
