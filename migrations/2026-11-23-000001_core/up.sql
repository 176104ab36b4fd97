-- Lifeline's core data model (docs/architecture.md, "Data"). Every tenant-owned table
-- carries team_id.

CREATE TABLE teams (
    id uuid PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    plan text NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'standard', 'premium', 'enterprise')),
    stripe_customer_id text UNIQUE,
    stripe_subscription_id text UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id uuid PRIMARY KEY,
    email text NOT NULL CHECK (email = lower(email) AND position('@' IN email) > 1),
    name text NOT NULL DEFAULT '',
    -- argon2 PHC string; NULL until the user sets a password (e.g. an accepted invitation).
    password_hash text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE memberships (
    team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

CREATE TABLE heartbeats (
    id uuid PRIMARY KEY,
    team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '',
    -- The secret of the ping URL, shown to the team; lookups go by its SHA-256 only.
    token text NOT NULL,
    token_hash bytea NOT NULL CHECK (length(token_hash) = 32),
    mode text NOT NULL DEFAULT 'fixed' CHECK (mode IN ('fixed', 'ai')),
    interval_secs integer NOT NULL CHECK (interval_secs BETWEEN 1 AND 34560000),
    grace_secs integer NOT NULL CHECK (grace_secs BETWEEN 0 AND 34560000),
    status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'up', 'late', 'down', 'paused')),
    last_ping_at timestamptz,
    started_at timestamptz,
    due_at timestamptz,
    alert_at timestamptz,
    -- Long runs (activity heartbeats): a run may not last longer than max_runtime_secs and must
    -- report progress at least every progress_timeout_secs.
    max_runtime_secs integer CHECK (max_runtime_secs > 0),
    progress_timeout_secs integer CHECK (progress_timeout_secs > 0),
    last_progress_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (status IN ('up', 'late') OR alert_at IS NULL)
);
CREATE UNIQUE INDEX heartbeats_token_hash_key ON heartbeats (token_hash);
CREATE INDEX heartbeats_team_idx ON heartbeats (team_id, name);
-- The scheduler's deadline scan: only watched heartbeats carry an alert_at.
CREATE INDEX heartbeats_alert_at_idx ON heartbeats (alert_at) WHERE alert_at IS NOT NULL;

-- Tokens that stopped working (rotation, deletion). Ingest processes poll this every half second
-- besides listening on Redis, so a rotation takes effect within a second even when Redis missed
-- it; rows older than a day are pruned (caches hold a token for at most ten minutes).
CREATE TABLE token_revocations (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    revoked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX token_revocations_time_idx ON token_revocations (revoked_at);

-- Pings are the hot, high-volume table. Its primary key leads with received_at so that the table
-- can be range-partitioned by time later without changing its callers; ids come from a sequence.
CREATE TABLE pings (
    id bigint GENERATED ALWAYS AS IDENTITY,
    received_at timestamptz NOT NULL,
    heartbeat_id uuid NOT NULL REFERENCES heartbeats (id) ON DELETE CASCADE,
    team_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('success', 'start', 'fail', 'progress')),
    exit_code smallint CHECK (exit_code BETWEEN 0 AND 255),
    method text NOT NULL CHECK (method IN ('GET', 'POST', 'HEAD')),
    remote_addr text,
    user_agent text,
    body_size bigint NOT NULL DEFAULT 0 CHECK (body_size >= 0),
    duration_ms bigint CHECK (duration_ms >= 0),
    -- Progress pings keep the first kilobyte of their body as the progress detail.
    detail text CHECK (octet_length(detail) <= 1024),
    PRIMARY KEY (received_at, id)
);
CREATE INDEX pings_heartbeat_time_idx ON pings (heartbeat_id, received_at DESC);

CREATE TABLE status_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    heartbeat_id uuid NOT NULL REFERENCES heartbeats (id) ON DELETE CASCADE,
    team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    from_status text NOT NULL CHECK (from_status IN ('new', 'up', 'late', 'down', 'paused')),
    to_status text NOT NULL CHECK (to_status IN ('new', 'up', 'late', 'down', 'paused')),
    reason text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX status_changes_heartbeat_idx ON status_changes (heartbeat_id, changed_at DESC);

CREATE TABLE incidents (
    id uuid PRIMARY KEY,
    heartbeat_id uuid NOT NULL REFERENCES heartbeats (id) ON DELETE CASCADE,
    team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('down', 'early_warning')),
    reason text NOT NULL,
    opened_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    CHECK (resolved_at IS NULL OR resolved_at >= opened_at)
);
-- At most one open incident of each kind per heartbeat.
CREATE UNIQUE INDEX incidents_one_open_idx ON incidents (heartbeat_id, kind) WHERE resolved_at IS NULL;
CREATE INDEX incidents_team_idx ON incidents (team_id, opened_at DESC);

CREATE TABLE channels (
    id uuid PRIMARY KEY,
    team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('email', 'webhook', 'slack')),
    name text NOT NULL DEFAULT '',
    target text NOT NULL CHECK (length(target) BETWEEN 1 AND 2048),
    -- HMAC-SHA256 signing secret of webhook channels.
    secret text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (kind <> 'webhook' OR secret IS NOT NULL)
);
CREATE INDEX channels_team_idx ON channels (team_id);

CREATE TABLE heartbeat_channels (
    heartbeat_id uuid NOT NULL REFERENCES heartbeats (id) ON DELETE CASCADE,
    channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    PRIMARY KEY (heartbeat_id, channel_id)
);
CREATE INDEX heartbeat_channels_channel_idx ON heartbeat_channels (channel_id);

-- The alert outbox: written in the transaction that opens or resolves an incident.
CREATE TABLE notifications (
    id uuid PRIMARY KEY,
    team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    incident_id uuid REFERENCES incidents (id) ON DELETE CASCADE,
    channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('alert', 'recovery', 'early_warning', 'test')),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
);
-- Exactly one alert (and one recovery notice) per incident and channel.
CREATE UNIQUE INDEX notifications_once_idx ON notifications (incident_id, channel_id, kind)
    WHERE incident_id IS NOT NULL;
CREATE INDEX notifications_pending_idx ON notifications (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_team_idx ON notifications (team_id, created_at DESC);

CREATE TABLE ai_models (
    heartbeat_id uuid PRIMARY KEY REFERENCES heartbeats (id) ON DELETE CASCADE,
    team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    version integer NOT NULL DEFAULT 1,
    trained_at timestamptz NOT NULL,
    samples integer NOT NULL CHECK (samples >= 0),
    -- Learned expected-arrival window relative to the last ping, in seconds.
    window_low_secs double precision NOT NULL,
    window_high_secs double precision NOT NULL,
    params jsonb NOT NULL DEFAULT '{}',
    CHECK (window_low_secs <= window_high_secs)
);
CREATE INDEX ai_models_team_idx ON ai_models (team_id);

-- Stripe webhook idempotency: an event id is processed once.
CREATE TABLE stripe_events (
    id text PRIMARY KEY,
    kind text NOT NULL,
    team_id uuid REFERENCES teams (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id uuid PRIMARY KEY,
    team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- The first characters of the key, shown so a team can tell its keys apart.
    prefix text NOT NULL,
    key_hash bytea NOT NULL CHECK (length(key_hash) = 32),
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz
);
CREATE UNIQUE INDEX api_keys_hash_key ON api_keys (key_hash);
CREATE INDEX api_keys_team_idx ON api_keys (team_id);

CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team_id uuid REFERENCES teams (id) ON DELETE CASCADE,
    -- 'operator', 'user:<uuid>', 'api_key:<uuid>' or 'system'.
    actor text NOT NULL,
    action text NOT NULL,
    target text NOT NULL DEFAULT '',
    detail jsonb NOT NULL DEFAULT '{}',
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_team_idx ON audit_log (team_id, at DESC);
