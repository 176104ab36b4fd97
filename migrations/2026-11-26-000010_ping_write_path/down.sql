ALTER TABLE heartbeats RESET (fillfactor);
DROP TRIGGER heartbeats_delete_pings ON heartbeats;
DROP FUNCTION delete_pings_of_deleted_heartbeats();
DELETE FROM pings p WHERE NOT EXISTS (SELECT 1 FROM heartbeats h WHERE h.id = p.heartbeat_id);
ALTER TABLE pings ADD CONSTRAINT pings_heartbeat_id_fkey
    FOREIGN KEY (heartbeat_id) REFERENCES heartbeats (id) ON DELETE CASCADE;
