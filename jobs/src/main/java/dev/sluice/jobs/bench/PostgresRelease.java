package dev.sluice.jobs.bench;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;

import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

/**
 * What {@code bench --postgres-version} names: a release ({@code 16.11.0}, as zonky publishes its binaries) or a
 * major version ({@code 16}), which is its newest release here, in the local Maven repository or the benchmark's
 * own download cache, else the newest one published.
 */
final class PostgresRelease {

    /** The major versions Sluice supports. */
    static final int OLDEST = 14;

    static final int NEWEST = 18;

    private PostgresRelease() {}

    /** Why {@code version} is not one to ask for, or null if it is. */
    static String problem(String version) {
        if (!version.matches("\\d{1,2}(\\.\\d{1,2}\\.\\d{1,2})?")) {
            return "must be a major version (" + OLDEST + " to " + NEWEST + ") or a release of three numbers, e.g."
                    + " 16 or 14.20.0, got '" + version + "'";
        }
        int major = Integer.parseInt(version.split("\\.")[0]);
        if (major < OLDEST || major > NEWEST) {
            return "Sluice supports PostgreSQL " + OLDEST + " to " + NEWEST + ", got " + version;
        }
        return null;
    }

    /** Whether {@code version} names a major version only, to be resolved to one of its releases. */
    static boolean isMajor(String version) {
        return !version.contains(".");
    }

    /**
     * The newest release of {@code major} among the version folders under each of {@code folders} (an artifact's
     * folder in a Maven repository) that hold the artifact's jar.
     */
    static Optional<String> newestLocal(String major, String artifact, List<Path> folders) throws IOException {
        List<String> found = new ArrayList<>();
        for (Path folder : folders) {
            if (!Files.isDirectory(folder)) {
                continue;
            }
            try (Stream<Path> versions = Files.list(folder)) {
                versions.filter(v -> Files.isRegularFile(
                                v.resolve(jar(artifact, v.getFileName().toString()))))
                        .map(v -> v.getFileName().toString())
                        .forEach(found::add);
            }
        }
        return newest(major, found);
    }

    /** The file name of {@code artifact}'s jar of {@code release}, as a Maven repository keeps it. */
    static String jar(String artifact, String release) {
        return artifact + "-" + release + ".jar";
    }

    /** The newest release of {@code major} that an artifact's {@code maven-metadata.xml} lists. */
    static Optional<String> newestPublished(String major, byte[] metadata) throws IOException {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            NodeList nodes = f.newDocumentBuilder()
                    .parse(new ByteArrayInputStream(metadata))
                    .getElementsByTagName("version");
            List<String> versions = new ArrayList<>();
            for (int i = 0; i < nodes.getLength(); i++) {
                versions.add(nodes.item(i).getTextContent().strip());
            }
            return newest(major, versions);
        } catch (ParserConfigurationException | SAXException e) {
            throw new IOException(
                    "unreadable maven-metadata.xml: "
                            + new String(metadata, 0, Math.min(metadata.length, 80), StandardCharsets.UTF_8),
                    e);
        }
    }

    /** The highest of {@code versions} (releases of three numbers) whose major is {@code major}. */
    static Optional<String> newest(String major, List<String> versions) {
        return versions.stream()
                .filter(v -> v.matches("\\d+\\.\\d+\\.\\d+") && v.startsWith(major + "."))
                .max(Comparator.comparingInt((String v) -> part(v, 1)).thenComparingInt(v -> part(v, 2)));
    }

    private static int part(String version, int i) {
        return Integer.parseInt(version.split("\\.")[i]);
    }
}
