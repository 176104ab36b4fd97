DROP TABLE outages;
DROP TABLE coverage;
DROP TABLE ingest_beacons;
DROP TABLE notification_attempts;
ALTER TABLE incidents DROP COLUMN deadline_at;
DROP INDEX heartbeats_next_check_idx;
CREATE INDEX heartbeats_alert_at_idx ON heartbeats (alert_at) WHERE alert_at IS NOT NULL;
ALTER TABLE heartbeats DROP COLUMN next_check_at;
