package dev.sluice.engine;

import java.util.List;

import dev.sluice.engine.spec.JobSpec;

/**
 * What preflight found for a spec, before anything is written: each check's finding, and the statements the job
 * will run with the plan PostgreSQL chose for them.
 *
 * @param spec          the spec checked
 * @param mode          what the spec writes
 * @param table         the table the job reads its keys from, schema-qualified and quoted
 * @param written       the table the job writes: the same, or a copy's target
 * @param estimatedRows the planner's estimate of the table's rows
 * @param matchingRows  the planner's estimate of the rows the spec's {@code where} selects
 * @param findings      one per check, in the order checked
 * @param statements    the statements a chunk runs, each with its plan
 */
public record Plan(
        JobSpec spec,
        JobSpec.Mode mode,
        String table,
        String written,
        long estimatedRows,
        long matchingRows,
        List<Finding> findings,
        List<Statement> statements) {

    public Plan {
        findings = List.copyOf(findings);
        statements = List.copyOf(statements);
    }

    /** A statement the job runs, with the plan PostgreSQL chose for the first chunks (EXPLAIN's lines). */
    public record Statement(String purpose, String sql, List<String> plan) {
        public Statement {
            plan = List.copyOf(plan);
        }
    }
}
