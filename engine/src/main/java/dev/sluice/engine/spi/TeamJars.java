package dev.sluice.engine.spi;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a team's transformer comes from, and what went wrong with it, in words an operator can act on: the jar and
 * the class. Java reports a broken jar with Errors (a static initializer that threw, a class missing from the class
 * path, a catalogue ServiceLoader cannot make), which say neither in one line.
 */
public final class TeamJars {

    /** Where jars register their catalogues for ServiceLoader: the name, and the old one jars built before 0.2 use. */
    static final List<String> SERVICES = List.of(
            "META-INF/services/" + Transformer.Catalog.class.getName(),
            "META-INF/services/" + LegacyCatalogs.SERVICE.getName());

    // How ServiceLoader names the provider it could not load or make ("Provider com.example.X could not be ...").
    private static final Pattern PROVIDER = Pattern.compile("Provider (\\S+)");

    private TeamJars() {}

    /** The catalogues registered on the class path, each with the jar (or directory) that registers it, in order. */
    static Map<String, String> registered() {
        Map<String, String> out = new LinkedHashMap<>();
        try {
            for (String services : SERVICES) {
                Enumeration<URL> files = loader().getResources(services);
                while (files.hasMoreElements()) {
                    URL file = files.nextElement();
                    try (BufferedReader in =
                            new BufferedReader(new InputStreamReader(file.openStream(), StandardCharsets.UTF_8))) {
                        in.lines()
                                .map(l -> l.replaceFirst("#.*", "").strip())
                                .filter(l -> !l.isEmpty())
                                .forEach(name -> out.putIfAbsent(name, origin(file)));
                    }
                }
            }
        } catch (IOException e) {
            // the names are for messages; a class path that cannot be listed leaves them out
        }
        return out;
    }

    /**
     * The class of a team's that {@code catalogueOrTransformer} is: itself, or for a jar built against the old
     * interface's name the team's class behind the engine's adapter, so that messages name the team's jar.
     */
    public static Class<?> origin(Object catalogueOrTransformer) {
        return LegacyCatalogs.origin(catalogueOrTransformer);
    }

    /** The jar (or directory) a loaded class comes from, or "the class path" when Java does not say. */
    public static String of(Class<?> type) {
        CodeSource source = type.getProtectionDomain() == null
                ? null
                : type.getProtectionDomain().getCodeSource();
        if (source == null || source.getLocation() == null) {
            String registered = registered().get(type.getName());
            return registered != null ? registered : "the class path";
        }
        return path(source.getLocation());
    }

    /** {@code com.example.team.TeamTransformers (in /opt/team/team.jar)}, for a class that may not load. */
    static String named(String className) {
        String jar = registered().get(className);
        return className + (jar == null ? "" : " (in " + jar + ")");
    }

    /** The provider a ServiceLoader error is about, or null. */
    static String provider(ServiceConfigurationError e) {
        Matcher m = PROVIDER.matcher(String.valueOf(e.getMessage()));
        return m.find() ? m.group(1) : null;
    }

    /**
     * What went wrong, in one line: {@code its static initializer threw NumberFormatException: For input string: "x"},
     * {@code a class it needs is missing from the class path: com.example.team.Abbreviations}.
     */
    public static String describe(Throwable failure) {
        if (failure instanceof InstalledCatalogs.BrokenCatalog broken) {
            return broken.getMessage(); // says it all, class and jar included
        }
        Throwable e = failure;
        while (e instanceof ServiceConfigurationError && e.getCause() != null) {
            e = e.getCause();
        }
        if (e instanceof ExceptionInInitializerError init) {
            Throwable cause = init.getCause() != null ? init.getCause() : init;
            return "the static initializer of " + initializing(cause) + " threw " + brief(cause);
        }
        if (e instanceof NoClassDefFoundError missing) {
            String message = String.valueOf(missing.getMessage());
            if (message.startsWith("Could not initialize class ")) {
                return "class " + message.substring("Could not initialize class ".length())
                        + " failed in its static initializer earlier";
            }
            return "a class it needs is missing from the class path: " + message.replace('/', '.')
                    + " (put the jar that holds it beside the team's, on SLUICE_LIB)";
        }
        if (e instanceof ServiceConfigurationError) { // no cause: the services file names a class that cannot be one
            String message = String.valueOf(e.getMessage());
            if (message.endsWith("not found")) {
                return "its class is not on the class path (META-INF/services names a class the jar does not hold)";
            }
            if (message.endsWith("not a subtype")) {
                // "SERVICE: Provider X not a subtype": the interface the services file is named after
                int colon = message.indexOf(": ");
                String service = colon > 0 ? message.substring(0, colon) : Transformer.Catalog.class.getName();
                return "its class is not a " + service.replace('$', '.')
                        + " (the interface its META-INF/services file is named after)";
            }
        }
        if (e instanceof UnsupportedClassVersionError) {
            return "it was compiled for a newer Java than this one ("
                    + Runtime.version().feature() + "): " + brief(e);
        }
        return brief(e);
    }

    private static String initializing(Throwable cause) {
        for (StackTraceElement frame : cause.getStackTrace()) {
            if (frame.getMethodName().equals("<clinit>")) {
                return frame.getClassName();
            }
        }
        return "a class";
    }

    private static String brief(Throwable e) {
        String message = e.getMessage() == null
                ? ""
                : ": " + e.getMessage().lines().findFirst().orElse("");
        return e.getClass().getSimpleName() + message;
    }

    private static String origin(URL servicesFile) {
        try {
            if (servicesFile.openConnection() instanceof JarURLConnection jar) {
                return path(jar.getJarFileURL());
            }
        } catch (IOException e) {
            // fall through to the URL itself
        }
        String text = servicesFile.toString();
        for (String services : SERVICES) {
            if (text.endsWith(services)) {
                return text.substring(0, text.length() - services.length());
            }
        }
        return text;
    }

    private static String path(URL location) {
        try {
            return "file".equals(location.getProtocol())
                    ? Path.of(location.toURI()).toString()
                    : location.toString();
        } catch (URISyntaxException | IllegalArgumentException e) {
            return location.toString();
        }
    }

    private static ClassLoader loader() {
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        return context != null ? context : TeamJars.class.getClassLoader();
    }
}
