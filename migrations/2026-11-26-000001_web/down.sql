ALTER TABLE api_keys DROP COLUMN read_only;
ALTER TABLE channels DROP COLUMN confirm_token_hash;
ALTER TABLE channels DROP COLUMN confirmed_at;
DROP TABLE invitations;
DROP TABLE password_resets;
DROP TABLE revoked_sessions;
DROP TABLE server_secrets;
