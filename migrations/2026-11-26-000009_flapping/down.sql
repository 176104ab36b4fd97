DROP INDEX incidents_open_flapping_idx;
DELETE FROM notifications WHERE kind = 'flapping';
DELETE FROM incidents WHERE kind = 'flapping';
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check,
    ADD CONSTRAINT notifications_kind_check
        CHECK (kind IN ('alert', 'recovery', 'early_warning', 'test'));
ALTER TABLE incidents DROP CONSTRAINT incidents_kind_check,
    ADD CONSTRAINT incidents_kind_check CHECK (kind IN ('down', 'early_warning'));
