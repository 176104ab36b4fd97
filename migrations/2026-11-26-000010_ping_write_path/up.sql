-- The ping write path, lightened for bursts (thousands of pings per second in one transaction).
--
-- A foreign key on pings.heartbeat_id cost every inserted ping a lookup and a share lock on its
-- heartbeat, an eighth of Postgres's time under load. It guarded nothing the writer does not
-- already guarantee: a ping batch holds its heartbeats locked (`FOR NO KEY UPDATE`, which a
-- DELETE waits for) while it inserts, and skips heartbeats that are gone. Its cascade is kept by
-- a statement trigger: deleting heartbeats (also through a team's deletion) deletes their pings.
ALTER TABLE pings DROP CONSTRAINT pings_heartbeat_id_fkey;

CREATE FUNCTION delete_pings_of_deleted_heartbeats() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM pings p USING deleted d WHERE p.heartbeat_id = d.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER heartbeats_delete_pings AFTER DELETE ON heartbeats
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION delete_pings_of_deleted_heartbeats();

-- A ping rewrites its heartbeat's row. It changes no indexed column (it leaves an earlier
-- `next_check_at` in place; the scheduler rewrites it when it comes due), so the update can be
-- HOT — no new index entries — when the page has room for the new version: keep 30 % free.
ALTER TABLE heartbeats SET (fillfactor = 70);
