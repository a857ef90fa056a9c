-- Expand: the new column, filled by the backfill users-email-lower and kept in step by its sync trigger.
ALTER TABLE users ADD COLUMN email_lower text;
