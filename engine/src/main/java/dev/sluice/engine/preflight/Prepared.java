package dev.sluice.engine.preflight;

import java.util.List;

import javax.sql.DataSource;

import dev.sluice.engine.Finding;
import dev.sluice.engine.Plan;
import dev.sluice.engine.chunk.ChunkWriter;
import dev.sluice.engine.chunk.WritePlan;
import dev.sluice.engine.keyset.Chunker;
import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Keyset;
import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.sync.SyncDefinition;
import dev.sluice.engine.validate.RangeCheck;

/**
 * A spec that passed preflight, with what the runner needs: the resolved keyset, the chunk finder and the writer,
 * plus what preflight learned (estimates, findings, statements and their plans) for {@code plan}.
 *
 * @param targets       the columns the job writes
 * @param estimatedRows the planner's estimate of the table's rows (what progress is measured against)
 * @param matchingRows  the planner's estimate of rows matching {@code where} (equal to estimatedRows without one)
 * @param ownCheck       the check the job's work brings with it: for copy mode, the comparison of source and target
 *                       per range; for Java mode, its transformer's own check (run again and compared) where it
 *                       declares one; null otherwise
 * @param source         where the table is, for a cross-database copy; null when it is in the target database
 * @param plan           what the job writes, as preflight resolved it
 * @param sync           the trigger {@code sync: trigger} installs; null without it
 */
public record Prepared(
        JobSpec spec,
        Keyset keyset,
        List<Column> targets,
        Chunker chunker,
        ChunkWriter writer,
        long estimatedRows,
        long matchingRows,
        List<Finding> findings,
        List<Plan.Statement> statements,
        RangeCheck ownCheck,
        DataSource source,
        WritePlan plan,
        SyncDefinition sync) {

    /** The same, with the sync trigger preflight built and what it found. */
    Prepared withSync(SyncDefinition trigger, List<Finding> allFindings, List<Plan.Statement> allStatements) {
        return new Prepared(
                spec,
                keyset,
                targets,
                chunker,
                writer,
                estimatedRows,
                matchingRows,
                List.copyOf(allFindings),
                List.copyOf(allStatements),
                ownCheck,
                source,
                plan,
                trigger);
    }

    /**
     * The check a validation of this job runs: a copy's comparison; else the spec's {@code validate} rules (null
     * here: they are resolved when the validation runs); else its transformer's own check. Null when there are
     * neither rules nor a check of its own: nothing could prove the rows right.
     */
    public RangeCheck defaultCheck() {
        return plan instanceof WritePlan.Copy || spec.validate().isEmpty() ? ownCheck : null;
    }

    /** Whether a validation of this job has something to check: the spec's rules, or a check of the job's own. */
    public boolean checked() {
        return !spec.validate().isEmpty() || ownCheck != null;
    }

    /** Whether the job is validated after its last chunk ({@code validate-after-run}, with something to check). */
    public boolean validatesAfterRun() {
        return spec.validateAfterRun() && checked();
    }

    /** The table the job writes, schema-qualified and quoted: the spec's table, or a copy's {@code into}. */
    public String written() {
        return plan instanceof WritePlan.Copy copy
                ? copy.target().qualifiedName()
                : keyset.table().qualifiedName();
    }

    /** What preflight found, as the public plan gives it. */
    public Plan toPlan() {
        return new Plan(
                spec,
                spec.mode(),
                keyset.table().qualifiedName(),
                written(),
                estimatedRows,
                matchingRows,
                findings,
                statements);
    }
}
