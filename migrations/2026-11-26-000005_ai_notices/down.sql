ALTER TABLE heartbeats DROP CONSTRAINT heartbeats_ai_off_both;
ALTER TABLE heartbeats DROP COLUMN ai_off_reason;
ALTER TABLE heartbeats DROP COLUMN ai_off_at;
