package dev.sluice.jobs.transformers;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.sluice.engine.spi.Transformer;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code transformer: profile-json-v2}: reshapes {@code profile} (a jsonb document of version 1,
 * {@code {"first": "Ada", "last": "Lovelace", "tel": "...", "newsletter": "yes"}}) into {@code profile_v2}
 * ({@code {"version": 2, "name": {"given": "Ada", "family": "Lovelace"}, "contact": {"phone": "..."},
 * "consents": {"newsletter": true}}}) with Jackson. Unknown fields are kept under {@code "extra"}; a document
 * that is not a JSON object is left alone (NULL in the target) rather than guessed at.
 */
public final class ProfileJsonV2 implements Transformer {

    public static final String NAME = "profile-json-v2";

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final List<String> KNOWN = List.of("first", "last", "tel", "newsletter");

    @Override
    public List<String> reads() {
        return List.of("profile");
    }

    @Override
    public List<String> writes() {
        return List.of("profile_v2");
    }

    /** The same row gives the same value: a validation runs it again and compares (without rules of the spec's). */
    @Override
    public Check check() {
        return Check.RECOMPUTE;
    }

    @Override
    public Map<String, Object> transform(Row row) {
        Map<String, Object> out = new HashMap<>();
        out.put("profile_v2", reshape(row.text("profile")));
        return out;
    }

    String reshape(String v1) {
        if (v1 == null) {
            return null;
        }
        JsonNode in;
        try {
            in = JSON.readTree(v1);
        } catch (JacksonException e) {
            return null;
        }
        if (!in.isObject()) {
            return null;
        }
        ObjectNode v2 = JSON.createObjectNode();
        v2.put("version", 2);
        ObjectNode name = v2.putObject("name");
        name.set("given", in.get("first"));
        name.set("family", in.get("last"));
        v2.putObject("contact").set("phone", in.get("tel"));
        JsonNode newsletter = in.get("newsletter");
        v2.putObject("consents")
                .put(
                        "newsletter",
                        newsletter != null
                                && (newsletter.asBoolean(false) || "yes".equalsIgnoreCase(newsletter.asString(""))));
        ObjectNode extra = JSON.createObjectNode();
        in.properties().forEach(e -> {
            if (!KNOWN.contains(e.getKey())) {
                extra.set(e.getKey(), e.getValue());
            }
        });
        if (!extra.isEmpty()) {
            v2.set("extra", extra);
        }
        return JSON.writeValueAsString(v2);
    }
}
