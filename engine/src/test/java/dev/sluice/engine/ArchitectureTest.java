package dev.sluice.engine;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import java.util.ArrayList;
import java.util.List;

import com.tngtech.archunit.base.DescribedPredicate;
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

import dev.sluice.engine.checkpoint.PartitionRequests;
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
        // Its integration module too: the requests a runner sends to its workers are checkpoint's.
        noClasses()
                .that()
                .resideOutsideOfPackage("dev.sluice.engine.checkpoint..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("org.springframework.batch..")
                .check(ENGINE);
    }

    @Test
    void springIntegrationStaysInFleet() {
        // Except where Spring Batch Integration hands its requests to the channel: a message, and the template its
        // partition handler sends with.
        noClasses()
                .that()
                .resideOutsideOfPackage("dev.sluice.engine.fleet..")
                .and()
                .doNotHaveFullyQualifiedName(PartitionRequests.class.getName())
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("org.springframework.integration..")
                .check(ENGINE);
        noClasses()
                .that()
                .resideOutsideOfPackages("dev.sluice.engine.fleet..", "dev.sluice.engine.checkpoint..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("org.springframework.messaging..")
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
