ALTER TABLE heartbeats DROP CONSTRAINT heartbeats_start_expectation_both;
ALTER TABLE heartbeats DROP COLUMN finish_due_at;
ALTER TABLE heartbeats DROP COLUMN start_expected_by;
