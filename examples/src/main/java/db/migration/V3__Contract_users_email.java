package db.migration;

import java.util.List;

import dev.sluice.examples.flyway.ContractMigration;

/**
 * The example's contract step: once the backfill {@code users-email-lower} is done, its contract (in its spec:
 * {@code not-null: email_lower}, {@code drop-columns: [email]}) runs lock-safe, and Flyway's history records it.
 */
public class V3__Contract_users_email extends ContractMigration {

    @Override
    protected List<String> backfills() {
        return List.of("users-email-lower");
    }
}
