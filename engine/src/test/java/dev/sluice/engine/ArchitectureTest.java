package dev.sluice.engine;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import java.util.ArrayList;
import java.util.List;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaField;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.domain.JavaType;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import com.tngtech.archunit.lang.syntax.ArchRuleDefinition;
import com.tngtech.archunit.library.dependencies.SlicesRuleDefinition;

import dev.sluice.engine.testing.PublicSurface;

import org.junit.jupiter.api.Test;

/**
 * The engine's layering, enforced: what the public packages show a caller names public types only; Spring Batch stays
 * in {@code checkpoint}; the verbs' packages sit on top of the concerns' packages, which never reach back up to them;
 * the concerns' packages have no cycles.
 */
@SuppressWarnings("removal") // names the deprecated alias, to leave it out of the cycle check
class ArchitectureTest {

    private static final JavaClasses ENGINE = PublicSurface.production("dev.sluice.engine");
    private static final String[] VERBS = {
        "dev.sluice.engine.launch..",
        "dev.sluice.engine.rollback..",
        "dev.sluice.engine.finish..",
        "dev.sluice.engine.validation..",
        "dev.sluice.engine.operate.."
    };

    @Test
    void thePublicPackagesShowPublicTypesOnly() {
        ArchRuleDefinition.classes()
                .that()
                .resideInAnyPackage(PublicSurface.publicPackages())
                .and()
                .arePublic()
                .should(new ArchCondition<JavaClass>("name only public packages' types in their public signatures") {
                    @Override
                    public void check(JavaClass type, ConditionEvents events) {
                        for (String leak : leaks(type)) {
                            events.add(SimpleConditionEvent.violated(type, leak));
                        }
                    }
                })
                .check(ENGINE);
    }

    @Test
    void springBatchStaysInCheckpoint() {
        // Only the compiler's bridge of a covariant return (fleet's sender, a Spring Batch Integration handler, for
        // checkpoint's PartitionHandler) names a Spring Batch type outside checkpoint; no source there does.
        ArchRuleDefinition.classes()
                .that()
                .resideOutsideOfPackage("dev.sluice.engine.checkpoint..")
                .should(new ArchCondition<JavaClass>("not depend on Spring Batch outside its integration") {
                    @Override
                    public void check(JavaClass type, ConditionEvents events) {
                        for (Dependency d : type.getDirectDependenciesFromSelf()) {
                            String target = d.getTargetClass().getPackageName();
                            boolean batch = target.startsWith("org.springframework.batch.core")
                                    || target.startsWith("org.springframework.batch.infrastructure");
                            boolean bridge = type.getMethods().stream()
                                    .anyMatch(m -> m.getModifiers().contains(JavaModifier.BRIDGE)
                                            && d.getDescription().startsWith("Method <" + m.getFullName() + ">"));
                            if (batch && !bridge) {
                                events.add(SimpleConditionEvent.violated(d, d.getDescription()));
                            }
                        }
                    }
                })
                .check(ENGINE);
    }

    @Test
    void springBatchIntegrationAndSpringIntegrationStayInFleet() {
        noClasses()
                .that()
                .resideOutsideOfPackage("dev.sluice.engine.fleet..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "org.springframework.batch.integration..",
                        "org.springframework.integration..",
                        "org.springframework.messaging..")
                .check(ENGINE);
    }

    @Test
    void theConcernsNeverReachUpToTheVerbs() {
        noClasses()
                .that()
                .resideInAPackage("dev.sluice.engine.(*)..")
                .and()
                .resideOutsideOfPackages(VERBS)
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(VERBS)
                .orShould()
                .dependOnClassesThat()
                .belongToAnyOf(Backfill.class, BackfillBuilder.class)
                .check(ENGINE);
    }

    @Test
    void theConcernsHaveNoCycles() {
        // The transformer interface's old name lives in chunk for old jars' sake, adapted by spi: not a dependency of
        // the concerns on each other, and gone with the old name.
        SlicesRuleDefinition.slices()
                .matching("dev.sluice.engine.(*)..")
                .should()
                .beFreeOfCycles()
                .ignoreDependency(
                        DescribedPredicate.alwaysTrue(),
                        JavaClass.Predicates.belongToAnyOf(dev.sluice.engine.chunk.Transformer.class))
                .check(ENGINE);
    }

    /** The internal types a public type's public members name, one line each. */
    private static List<String> leaks(JavaClass type) {
        List<String> out = new ArrayList<>();
        for (JavaCodeUnit unit : type.getCodeUnits()) {
            if (!unit.getModifiers().contains(JavaModifier.PUBLIC)
                    || unit.getModifiers().contains(JavaModifier.SYNTHETIC)) {
                continue;
            }
            List<JavaType> named = new ArrayList<>(unit.getParameterTypes());
            named.add(unit.getReturnType());
            named.forEach(t -> internal(t).forEach(c -> out.add(unit.getFullName() + " names " + c.getName())));
        }
        for (JavaField field : type.getFields()) {
            if (field.getModifiers().contains(JavaModifier.PUBLIC)) {
                internal(field.getType()).forEach(c -> out.add(field.getFullName() + " is a " + c.getName()));
            }
        }
        for (JavaType implemented : type.getInterfaces()) {
            internal(implemented).forEach(c -> out.add(type.getName() + " implements " + c.getName()));
        }
        return out;
    }

    private static List<JavaClass> internal(JavaType type) {
        return type.getAllInvolvedRawTypes().stream()
                .filter(PublicSurface.internal())
                .toList();
    }
}
