package dev.sluice.engine.spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import com.fasterxml.jackson.annotation.JsonInclude;

import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.core.exc.InputCoercionException;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.SerializationContext;
import tools.jackson.databind.ValueDeserializer;
import tools.jackson.databind.ValueSerializer;
import tools.jackson.databind.cfg.CoercionAction;
import tools.jackson.databind.cfg.CoercionInputShape;
import tools.jackson.databind.cfg.EnumFeature;
import tools.jackson.databind.deser.jdk.NumberDeserializers;
import tools.jackson.databind.exc.InvalidFormatException;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.exc.UnrecognizedPropertyException;
import tools.jackson.databind.module.SimpleModule;
import tools.jackson.databind.type.LogicalType;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * Reads job specs from YAML, strictly: an unknown key, a wrong type, a duplicate key or a bad duration is an
 * error naming the field, never a silently ignored setting.
 */
public final class SpecParser {

    private static final YAMLMapper MAPPER = YAMLMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .enable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            // A boolean is YAML's true or false: a number (undo: 0, health.autovacuum: 2) is refused, not taken for
            // one;
            // nor is a number taken for the n-th value of a choice (sync: 1).
            .enable(EnumFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
            .withCoercionConfig(
                    LogicalType.Boolean,
                    c -> c.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                            .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                            .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail))
            // An empty value ("") is not a number either (it would read as the default).
            .withCoercionConfig(
                    LogicalType.Integer, c -> c.setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail))
            .withCoercionConfig(
                    LogicalType.Float, c -> c.setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail))
            .changeDefaultPropertyInclusion(incl -> incl.withValueInclusion(JsonInclude.Include.NON_EMPTY))
            .addModule(new SimpleModule("sluice-spec")
                    .addDeserializer(Duration.class, new DurationDeserializer())
                    .addSerializer(Duration.class, new DurationSerializer())
                    .addDeserializer(ByteSize.class, new ByteSizeDeserializer())
                    .addDeserializer(Double.class, new FiniteDoubleDeserializer())
                    .addSerializer(ByteSize.class, new ByteSizeSerializer()))
            .build();

    // Marks the messages of our own deserializers inside Jackson's, so that only ours reach the operator.
    private static final String OUR_MESSAGE = "sluice:";
    private static final Pattern DUPLICATE = Pattern.compile("Duplicate Object property \"([^\"]+)\"");

    private SpecParser() {}

    /** Reads and checks a spec file. */
    public static JobSpec read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new SpecException("", "no job spec at " + file);
        } catch (IOException e) {
            throw new SpecException("", "cannot read job spec " + file + ": " + e.getMessage());
        }
        return parse(text);
    }

    /** Parses and checks a spec from YAML (or JSON) text. */
    public static JobSpec parse(String yaml) {
        return parse(yaml, JobSpec.class, "the job spec");
    }

    /** Reads and checks a fleet file ({@code config/fleets/NAME.yml}). */
    public static FleetSpec readFleet(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new SpecException("--fleet", "no fleet file at " + file);
        } catch (IOException e) {
            throw new SpecException("--fleet", "cannot read fleet file " + file + ": " + e.getMessage());
        }
        return parseFleet(text);
    }

    /** Parses and checks a fleet from YAML text. */
    public static FleetSpec parseFleet(String yaml) {
        return parse(yaml, FleetSpec.class, "the fleet file");
    }

    private static <T> T parse(String yaml, Class<T> type, String what) {
        if (yaml == null
                || yaml.lines().allMatch(line -> line.isBlank() || line.strip().startsWith("#"))) {
            throw new SpecException("", what + " is empty");
        }
        T spec;
        // The parser is ours, so that it still stands where reading failed when the error is worded.
        try (JsonParser parser = MAPPER.createParser(yaml)) {
            try {
                spec = MAPPER.readValue(parser, type);
            } catch (JacksonException e) {
                if (e.getCause() instanceof SpecException checked && path(e).isEmpty()) {
                    throw checked; // the spec's own checks, as it was made: they name the field
                }
                throw translate(yaml, e);
            }
        }
        if (spec == null) {
            throw new SpecException("", what + " is empty");
        }
        return spec;
    }

    /** A contract step as one line of JSON, as its record keeps it; {@link #contractStep} reads it back. */
    public static String toJson(ContractStep step) {
        return tools.jackson.databind.json.JsonMapper.builder()
                .propertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE)
                .changeDefaultPropertyInclusion(incl -> incl.withValueInclusion(JsonInclude.Include.NON_NULL))
                .build()
                .writeValueAsString(step);
    }

    /** A contract step from its record's JSON. */
    public static ContractStep contractStep(String json) {
        return MAPPER.readValue(json, ContractStep.class);
    }

    /** The spec as YAML, defaults filled in; parsing it again gives an equal spec. */
    public static String toYaml(JobSpec spec) {
        return MAPPER.writeValueAsString(spec);
    }

    private static SpecException translate(String yaml, JacksonException e) {
        if (YamlErrors.isSyntax(e)) {
            return new SpecException(YamlErrors.field(e), YamlErrors.describe(e));
        }
        String field = path(e);
        if (e instanceof UnrecognizedPropertyException u) {
            String known = u.getKnownPropertyIds() == null
                    ? ""
                    : u.getKnownPropertyIds().stream()
                            .map(Object::toString)
                            .sorted()
                            .collect(Collectors.joining(", "));
            return new SpecException(
                    field,
                    "unknown key" + (known.isEmpty() ? "" : " (known keys: " + known + ")")
                            + (withoutValue(yaml, e)
                                    ? "; if it is the end of an expression, quote the expression: inside { } a ','"
                                            + " ends it"
                                    : ""));
        }
        if (e instanceof InputCoercionException c) {
            return new SpecException(field, outOfRange(written(e, null), c.getTargetType()));
        }
        if (e instanceof InvalidFormatException f) {
            String message = f.getOriginalMessage();
            int ours = message == null ? -1 : message.indexOf(OUR_MESSAGE);
            if (ours >= 0) {
                return new SpecException(
                        field, message.substring(ours + OUR_MESSAGE.length()).trim());
            }
            String got = written(e, f.getValue());
            if (isWholeNumber(f.getTargetType()) && got != null && got.strip().matches("[-+]?\\d+")) {
                return new SpecException(field, outOfRange(got, f.getTargetType())); // digits alone: too many of them
            }
            return new SpecException(field, "expected " + describe(f.getTargetType()) + ", got '" + got + "'");
        }
        if (e instanceof MismatchedInputException m) {
            String got = written(e, null);
            return new SpecException(
                    field, "expected " + describe(m.getTargetType()) + (got == null ? "" : ", got '" + got + "'"));
        }
        String message = e.getOriginalMessage() == null ? e.getMessage() : e.getOriginalMessage();
        Matcher duplicate = DUPLICATE.matcher(message);
        if (duplicate.find()) {
            return new SpecException(
                    field.isEmpty() ? duplicate.group(1) : field + "." + duplicate.group(1), "appears twice");
        }
        return new SpecException(field.isEmpty() ? YamlErrors.field(e) : field, YamlErrors.describe(e));
    }

    /**
     * Whether the key a Jackson error is about has no value in the text ({@code { check: a = b, c }}: the comma made
     * {@code c} a key of its own). Read again as a tree, since Jackson has read past the key by then.
     */
    private static boolean withoutValue(String yaml, JacksonException e) {
        StringBuilder pointer = new StringBuilder();
        for (JacksonException.Reference ref : e.getPath()) {
            pointer.append('/')
                    .append(
                            ref.getPropertyName() != null
                                    ? ref.getPropertyName().replace("~", "~0").replace("/", "~1")
                                    : String.valueOf(ref.getIndex()));
        }
        try {
            return MAPPER.readTree(yaml).at(pointer.toString()).isNull();
        } catch (JacksonException | IllegalArgumentException unreadable) {
            return false;
        }
    }

    /**
     * The value as the operator wrote it ({@code 1e3}, not {@code 1000.0}): the parser's text of the scalar it stopped
     * at, else {@code fallback}.
     */
    private static String written(JacksonException e, Object fallback) {
        if (e.processor() instanceof JsonParser p
                && p.currentToken() != null
                && p.currentToken().isScalarValue()) {
            try {
                return p.getString();
            } catch (JacksonException unreadable) {
                // the parser is closed: the value Jackson kept will do
            }
        }
        return fallback == null ? null : String.valueOf(fallback);
    }

    /** A whole number beyond what its field holds: {@code 99999999999999999999 is too large (at most 2147483647)}. */
    private static String outOfRange(String text, Class<?> type) {
        boolean wide = type == Long.class || type == long.class;
        boolean negative = text != null && text.strip().startsWith("-");
        String shown = text == null ? "the number" : text.strip();
        if (negative) {
            return shown + " is too small (at least " + (wide ? Long.MIN_VALUE : Integer.MIN_VALUE) + ")";
        }
        return shown + " is too large (at most " + (wide ? Long.MAX_VALUE : Integer.MAX_VALUE) + ")";
    }

    private static String path(JacksonException e) {
        StringBuilder sb = new StringBuilder();
        for (JacksonException.Reference ref : e.getPath()) {
            if (ref.getPropertyName() != null) {
                if (!sb.isEmpty()) {
                    sb.append('.');
                }
                sb.append(ref.getPropertyName());
            } else if (ref.getIndex() >= 0) {
                sb.append('[').append(ref.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    private static boolean isWholeNumber(Class<?> type) {
        return type == Integer.class || type == int.class || type == Long.class || type == long.class;
    }

    private static String describe(Class<?> type) {
        if (type == null) {
            return "another kind of value";
        }
        if (isWholeNumber(type)) {
            return "a whole number";
        }
        if (type == Double.class || type == double.class || type == Float.class || type == float.class) {
            return "a number";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (type == String.class) {
            return "a text value";
        }
        if (type.isEnum()) {
            return "one of "
                    + Arrays.stream(type.getEnumConstants())
                            .map(c -> c.toString().toLowerCase(Locale.ROOT))
                            .collect(Collectors.joining(", "));
        }
        if (List.class.isAssignableFrom(type)) {
            return "a list";
        }
        if (Map.class.isAssignableFrom(type) || type.isRecord()) {
            return "a mapping (key: value lines)";
        }
        return "a " + type.getSimpleName();
    }

    private static String scalar(JsonParser p, DeserializationContext ctxt, Class<?> type) {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_STRING || t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
            return p.getString();
        }
        return ctxt.reportInputMismatch(type, "expected a scalar");
    }

    private static final class DurationDeserializer extends ValueDeserializer<Duration> {
        @Override
        public Duration deserialize(JsonParser p, DeserializationContext ctxt) {
            String text = scalar(p, ctxt, Duration.class);
            try {
                return Durations.parse(text);
            } catch (IllegalArgumentException e) {
                throw ctxt.weirdStringException(text, Duration.class, OUR_MESSAGE + e.getMessage());
            }
        }
    }

    /**
     * Jackson's own reading of a double, and then a number that is one: YAML's {@code .inf} and {@code .nan}, or a value
     * beyond a double's range (which Java would read as infinite), are refused in the operator's words.
     */
    private static final class FiniteDoubleDeserializer extends NumberDeserializers.DoubleDeserializer {
        FiniteDoubleDeserializer() {
            super(Double.class, null);
        }

        @Override
        public Double deserialize(JsonParser p, DeserializationContext ctxt) {
            String text = p.currentToken() != null && p.currentToken().isScalarValue() ? p.getString() : null;
            Double value;
            try {
                value = super.deserialize(p, ctxt);
            } catch (StreamReadException malformed) { // .nan, .inf: tokens of YAML that are no number to Java
                throw ctxt.weirdStringException(text, Double.class, OUR_MESSAGE + "'" + text + "' is not a number");
            }
            if (value != null && Double.isNaN(value)) {
                throw ctxt.weirdStringException(text, Double.class, OUR_MESSAGE + "'" + text + "' is not a number");
            }
            if (value != null && Double.isInfinite(value)) {
                throw ctxt.weirdStringException(
                        text,
                        Double.class,
                        OUR_MESSAGE + text + " is too "
                                + (value > 0
                                        ? "large (at most " + Double.MAX_VALUE
                                        : "small (at least " + -Double.MAX_VALUE)
                                + ")");
            }
            return value;
        }
    }

    private static final class DurationSerializer extends ValueSerializer<Duration> {
        @Override
        public void serialize(Duration value, JsonGenerator gen, SerializationContext ctxt) {
            gen.writeString(Durations.format(value));
        }
    }

    private static final class ByteSizeDeserializer extends ValueDeserializer<ByteSize> {
        @Override
        public ByteSize deserialize(JsonParser p, DeserializationContext ctxt) {
            String text = scalar(p, ctxt, ByteSize.class);
            try {
                return ByteSize.parse(text);
            } catch (IllegalArgumentException e) {
                throw ctxt.weirdStringException(text, ByteSize.class, OUR_MESSAGE + e.getMessage());
            }
        }
    }

    private static final class ByteSizeSerializer extends ValueSerializer<ByteSize> {
        @Override
        public void serialize(ByteSize value, JsonGenerator gen, SerializationContext ctxt) {
            gen.writeString(value.toString());
        }
    }
}
