-- AI heartbeats (docs/architecture.md, "AI heartbeats").

-- What the model expected after the last ping, kept on the row so that the scheduler judges and
-- explains an AI heartbeat's deadlines without loading its model: most next pings come by
-- expected_by (due_at is the warning, alert_at the down deadline), and a run is unusually long
-- after run_warning_secs. Both NULL in fixed mode and until a model exists.
ALTER TABLE heartbeats ADD COLUMN expected_by timestamptz;
ALTER TABLE heartbeats ADD COLUMN run_warning_secs integer CHECK (run_warning_secs > 0);
-- When the analyzer looks at this heartbeat next (trains, or checks eligibility); NULL in fixed
-- mode. Analyzer processes claim due rows with SKIP LOCKED.
ALTER TABLE heartbeats ADD COLUMN model_due_at timestamptz;
CREATE INDEX heartbeats_model_due_idx ON heartbeats (model_due_at) WHERE model_due_at IS NOT NULL;

-- The pings a model was trained on: first and last instant (samples is how many).
ALTER TABLE ai_models ADD COLUMN window_from timestamptz NOT NULL DEFAULT now();
ALTER TABLE ai_models ADD COLUMN window_until timestamptz NOT NULL DEFAULT now();
ALTER TABLE ai_models ALTER COLUMN window_from DROP DEFAULT;
ALTER TABLE ai_models ALTER COLUMN window_until DROP DEFAULT;

-- An early warning the team marked "expected": the model learns that pattern as normal instead
-- of warning about it again.
ALTER TABLE incidents ADD COLUMN marked_expected_at timestamptz;
ALTER TABLE incidents ADD COLUMN marked_expected_by uuid REFERENCES users (id) ON DELETE SET NULL;
