-- Flapping: a heartbeat that changes between up and down too often (a job alternating failure
-- and success) is marked by an incident of its own kind while it lasts. Its first notice says
-- so; the changes meanwhile are recorded but not announced; its recovery notice, once the
-- heartbeat is stable again, summarises them.
ALTER TABLE incidents DROP CONSTRAINT incidents_kind_check,
    ADD CONSTRAINT incidents_kind_check CHECK (kind IN ('down', 'early_warning', 'flapping'));
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check,
    ADD CONSTRAINT notifications_kind_check
        CHECK (kind IN ('alert', 'recovery', 'early_warning', 'flapping', 'test'));
-- The settling pass looks for open flapping incidents.
CREATE INDEX incidents_open_flapping_idx ON incidents (heartbeat_id)
    WHERE kind = 'flapping' AND resolved_at IS NULL;
