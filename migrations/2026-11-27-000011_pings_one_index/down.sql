ALTER TABLE pings ALTER COLUMN id SET CACHE 1;
ALTER TABLE pings DROP CONSTRAINT pings_pkey;
ALTER TABLE pings ADD PRIMARY KEY (received_at, id);
CREATE INDEX pings_heartbeat_time_idx ON pings (heartbeat_id, received_at DESC);
