package db.migration;

import java.util.List;

import dev.sluice.examples.flyway.ContractMigration;

/**
 * The example's contract step: once the backfill {@code users-email-lower} is done, the application reads only
 * {@code email_lower}, which may now be NOT NULL, and the old column goes.
 */
public class V3__Contract_users_email extends ContractMigration {

    @Override
    protected List<String> backfills() {
        return List.of("users-email-lower");
    }

    @Override
    protected List<String> statements() {
        return List.of(
                "ALTER TABLE users ALTER COLUMN email_lower SET NOT NULL", "ALTER TABLE users DROP COLUMN email");
    }
}
