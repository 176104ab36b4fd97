ALTER TABLE heartbeats SET (fillfactor = 70);
