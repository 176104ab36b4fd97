DROP INDEX invitations_pending_idx;
ALTER TABLE users DROP COLUMN sessions_valid_after;
