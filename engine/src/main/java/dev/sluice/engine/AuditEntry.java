package dev.sluice.engine;

import java.time.Instant;
import java.util.Map;

/**
 * One command that changed a job, from the audit trail ({@code sluice history JOB}).
 *
 * @param command       {@code run}, {@code resume}, {@code repair}, {@code pause}, {@code cancel}, {@code tune},
 *                      {@code rollback}, {@code finish}, {@code purge} or {@code forget}
 * @param options       what the command was asked, by option name (never a secret)
 * @param actor         who asked, from where
 * @param databaseUser  the role the command's session logged in as
 * @param clientAddress the address the database saw the command's session come from (null over a Unix socket)
 * @param specDigest    SHA-256 of the spec the command acted on (as Sluice writes it), or null
 * @param outcome       {@code running} until the command ends; then {@code done}, {@code completed}, {@code refused},
 *                      {@code failed}, {@code mismatches}, {@code stopped}, ...
 * @param message       the command's result in one line, or null
 * @param ended         when the command ended, or null while it runs (or if its process died)
 */
public record AuditEntry(
        long id,
        Instant at,
        String job,
        String command,
        Map<String, Object> options,
        Actor actor,
        String databaseUser,
        String clientAddress,
        String specDigest,
        String outcome,
        String message,
        Instant ended) {

    public AuditEntry {
        options = options == null ? Map.of() : Map.copyOf(options);
    }
}
