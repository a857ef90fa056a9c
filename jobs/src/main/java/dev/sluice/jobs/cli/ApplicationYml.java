package dev.sluice.jobs.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import dev.sluice.engine.spec.SpecException;
import dev.sluice.engine.spec.YamlErrors;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * {@code DIR/application.yml}, read as strictly as a job spec: only the keys Sluice knows, each a single value. A
 * typo ({@code sluice.datasource.pasword}) is refused with the key's name rather than silently ignored.
 *
 * @param url      {@code sluice.datasource.url}, or null
 * @param username {@code sluice.datasource.username}, or null
 * @param password {@code sluice.datasource.password}, or null
 * @param token    {@code sluice.serve.token}, or null
 */
record ApplicationYml(String url, String username, String password, String token) {

    static final ApplicationYml NONE = new ApplicationYml(null, null, null, null);

    private static final Map<String, List<String>> KNOWN = Map.of(
            "datasource", List.of("url", "username", "password"),
            "serve", List.of("token"));

    /** The file's settings; NONE when there is no file. */
    static ApplicationYml read(Path config) {
        Path file = config.resolve("application.yml");
        if (!Files.isRegularFile(file)) {
            return NONE;
        }
        JsonNode root;
        try {
            root = new YAMLMapper().readTree(Files.readString(file));
        } catch (JacksonException e) {
            throw new SpecException(file.toString(), YamlErrors.describe(e));
        } catch (IOException | RuntimeException e) {
            throw new SpecException(
                    file.toString(),
                    "cannot read: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return NONE;
        }
        mapping(file, "", root, Set.of("sluice"));
        JsonNode sluice = root.path("sluice");
        if (sluice.isMissingNode() || sluice.isNull()) {
            return NONE;
        }
        mapping(file, "sluice", sluice, KNOWN.keySet());
        KNOWN.forEach((section, keys) -> {
            JsonNode node = sluice.path(section);
            if (!node.isMissingNode() && !node.isNull()) {
                mapping(file, "sluice." + section, node, Set.copyOf(keys));
            }
        });
        return new ApplicationYml(
                text(file, sluice, "datasource", "url"),
                text(file, sluice, "datasource", "username"),
                text(file, sluice, "datasource", "password"),
                text(file, sluice, "serve", "token"));
    }

    private static void mapping(Path file, String path, JsonNode node, Set<String> known) {
        if (!node.isObject()) {
            throw new SpecException(
                    path.isEmpty() ? file.toString() : path, "expected a mapping (key: value lines) in " + file);
        }
        for (String key : node.propertyNames()) {
            if (!known.contains(key)) {
                throw new SpecException(
                        path.isEmpty() ? key : path + "." + key,
                        "unknown key in " + file + " (known keys: " + String.join(", ", new TreeSet<>(known)) + ")");
            }
        }
    }

    private static String text(Path file, JsonNode sluice, String section, String key) {
        JsonNode value = sluice.path(section).path(key);
        if (value.isMissingNode() || value.isNull()) {
            return null;
        }
        if (!value.isValueNode()) {
            throw new SpecException("sluice." + section + "." + key, "expected a single value in " + file);
        }
        String text = value.asString();
        return text.isBlank() ? null : text;
    }
}
