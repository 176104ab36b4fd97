ALTER TABLE heartbeats DROP COLUMN time_zone;
ALTER TABLE teams DROP COLUMN time_zone;
