-- Changing or resetting a password ends the user's other sessions: a session token issued
-- before this instant (its `iat`, whole seconds) is refused. NULL: no session was ended yet.
ALTER TABLE users ADD COLUMN sessions_valid_after timestamptz;

-- The pending invitations of a team are listed and counted against its plan's member limit.
CREATE INDEX invitations_pending_idx ON invitations (team_id, email) WHERE accepted_at IS NULL;
