-- The retention purge deletes old history a bounded number of rows at a time, each statement
-- walking an index in time order: these are the indexes the existing ones did not give it.
-- Delivery attempts and Lifeline's own outages are kept a fixed period, by time alone.
CREATE INDEX notification_attempts_started_idx ON notification_attempts (started_at);
CREATE INDEX outages_ended_idx ON outages (ended_at);
-- Audit rows of no team (the operator's, or of a team since deleted) are kept a fixed period too.
CREATE INDEX audit_log_teamless_idx ON audit_log (at) WHERE team_id IS NULL;
