ALTER TABLE incidents DROP COLUMN marked_expected_by;
ALTER TABLE incidents DROP COLUMN marked_expected_at;
ALTER TABLE ai_models DROP COLUMN window_until;
ALTER TABLE ai_models DROP COLUMN window_from;
DROP INDEX heartbeats_model_due_idx;
ALTER TABLE heartbeats DROP COLUMN model_due_at;
ALTER TABLE heartbeats DROP COLUMN run_warning_secs;
ALTER TABLE heartbeats DROP COLUMN expected_by;
