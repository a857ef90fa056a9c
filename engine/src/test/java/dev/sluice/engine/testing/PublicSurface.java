package dev.sluice.engine.testing;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The engine's public surface, as the build enforces it: {@code dev.sluice.engine} (the facade, options, results as
 * data), {@code dev.sluice.engine.spec} (the job spec) and {@code dev.sluice.engine.spi} (what teams implement).
 * Everything else under {@code dev.sluice.engine} is internal; the other modules' code uses the public packages only,
 * and their tests may add the engine's test fixtures ({@code dev.sluice.engine.testing}).
 */
public final class PublicSurface {

    // The public packages, as ArchUnit package patterns.
    private static final String[] PUBLIC = {"dev.sluice.engine", "dev.sluice.engine.spec..", "dev.sluice.engine.spi.."};
    private static final String TEST_FIXTURES = "dev.sluice.engine.testing..";

    private PublicSurface() {}

    /** The engine's public packages, as ArchUnit package patterns. */
    public static String[] publicPackages() {
        return PUBLIC.clone();
    }

    /** The engine's packages that are not public. */
    public static DescribedPredicate<JavaClass> internal() {
        return resideInAPackage("dev.sluice.engine..")
                .and(not(resideInAnyPackage(PUBLIC)))
                .and(not(resideInAPackage(TEST_FIXTURES)))
                .as("the engine's internal packages");
    }

    /** No class of {@code packages} (production code) uses an internal package of the engine. */
    public static ArchRule productionUsesPublicPackagesOnly(String... packages) {
        return noClasses()
                .that()
                .resideInAnyPackage(packages)
                .should()
                .dependOnClassesThat(internal())
                .because("the engine's public surface is dev.sluice.engine, .spec and .spi; the rest may change");
    }

    /** The production classes of {@code packages}. */
    public static JavaClasses production(String... packages) {
        return new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
                .importPackages(packages);
    }

    /** The test classes of {@code packages} (which may use the test fixtures too). */
    public static JavaClasses tests(String... packages) {
        return new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.ONLY_INCLUDE_TESTS)
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
                .importPackages(packages);
    }

    /** Checks that the production and test classes of {@code packages} use the public packages only. */
    public static void check(String... packagePatterns) {
        String[] roots = java.util.Arrays.stream(packagePatterns)
                .map(p -> p.replace("..", ""))
                .toArray(String[]::new);
        ArchRule rule = productionUsesPublicPackagesOnly(packagePatterns);
        JavaClasses production = production(roots);
        JavaClasses tests = tests(roots);
        if (production.isEmpty() && tests.isEmpty()) {
            throw new AssertionError(
                    "no classes found in " + String.join(", ", roots) + ": the check would prove nothing");
        }
        rule.check(production);
        rule.check(tests);
    }
}
