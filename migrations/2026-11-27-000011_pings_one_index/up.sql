-- One index on pings instead of two. Every read of pings names its heartbeat (history, charts,
-- the AI's training window, the purge), so the index `(heartbeat_id, received_at DESC)` served
-- them all, while the primary key `(received_at, id)` only made each insert write a second
-- index entry and a second WAL record: a few percent of Postgres's time per ping under load.
-- The primary key is now that one index. It still contains `received_at`, so the table can
-- still be range-partitioned by time; `id` keeps two pings of one instant apart. Its order
-- (`received_at` ascending) serves newest-first reads by scanning backwards.
ALTER TABLE pings DROP CONSTRAINT pings_pkey;
DROP INDEX pings_heartbeat_time_idx;
ALTER TABLE pings ADD PRIMARY KEY (heartbeat_id, received_at, id);

-- Each writer connection takes ping ids a thousand at a time instead of locking the sequence's
-- page for every row. Ids stay unique; across writers they are no longer in insertion order,
-- which nothing needs: they only tell apart pings of one heartbeat stored at the same instant.
ALTER TABLE pings ALTER COLUMN id SET CACHE 1000;
