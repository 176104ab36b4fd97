-- The dashboard's accounts (docs/architecture.md, "Web").

-- Secrets the web service generates once and shares between its replicas (the session signing
-- key, when LIFELINE_SESSION_SECRET is not set).
CREATE TABLE server_secrets (
    name text PRIMARY KEY,
    secret bytea NOT NULL CHECK (length(secret) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Sessions ended by logging out, until their token would have expired anyway. Redis holds the
-- same set for fast checks; this table is the record that survives a Redis restart or outage.
CREATE TABLE revoked_sessions (
    jti uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    revoked_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX revoked_sessions_expiry_idx ON revoked_sessions (expires_at);

-- Emailed one-time links: only the SHA-256 of the secret in the link is stored.
CREATE TABLE password_resets (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id);

CREATE TABLE invitations (
    id uuid PRIMARY KEY,
    team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    email text NOT NULL CHECK (email = lower(email) AND position('@' IN email) > 1),
    role text NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    invited_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    accepted_at timestamptz
);
CREATE INDEX invitations_team_idx ON invitations (team_id, created_at DESC);

-- Email channels alert only once their address confirmed it wants to (a link sent to it), so
-- Lifeline cannot be used to mail strangers. Channels made before this (by the operator) count as
-- confirmed.
ALTER TABLE channels ADD COLUMN confirmed_at timestamptz;
ALTER TABLE channels ADD COLUMN confirm_token_hash bytea CHECK (length(confirm_token_hash) = 32);
UPDATE channels SET confirmed_at = created_at;

-- Read-only keys may call the management API's GET routes only.
ALTER TABLE api_keys ADD COLUMN read_only boolean NOT NULL DEFAULT false;
