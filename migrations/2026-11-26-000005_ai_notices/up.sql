-- Why a heartbeat is no longer in AI mode when Lifeline turned it off rather than a person
-- (today: its team moved to a plan without AI heartbeats), so the dashboard can say so until
-- someone switches its mode again. Both set or both NULL.
ALTER TABLE heartbeats ADD COLUMN ai_off_at timestamptz;
ALTER TABLE heartbeats ADD COLUMN ai_off_reason text
    CHECK (ai_off_reason IN ('plan_downgrade'));
ALTER TABLE heartbeats ADD CONSTRAINT heartbeats_ai_off_both
    CHECK ((ai_off_at IS NULL) = (ai_off_reason IS NULL));
