-- AI heartbeats learn a job's local time of day and weekday, so every heartbeat has an IANA time
-- zone: its own, or its team's. Names are checked in code (lifeline_domain::TimeZoneName, the
-- tz database compiled into the binary), not by a CHECK: the database's idea of the zone list
-- (pg_timezone_names) follows the server's tzdata, which need not match ours.
ALTER TABLE teams ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC';

-- NULL: the heartbeat follows its team's zone, including later changes to it.
ALTER TABLE heartbeats ADD COLUMN time_zone text;
