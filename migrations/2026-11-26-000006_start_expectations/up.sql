-- AI heartbeats whose jobs send a start ping before each run: while the next run has not
-- started, due_at is the warning for a run that does not start, start_expected_by is when runs
-- usually start, and finish_due_at is the warning for the success once the run has started
-- (what due_at becomes at the start ping). Both NULL otherwise.
ALTER TABLE heartbeats ADD COLUMN start_expected_by timestamptz;
ALTER TABLE heartbeats ADD COLUMN finish_due_at timestamptz;
ALTER TABLE heartbeats ADD CONSTRAINT heartbeats_start_expectation_both
    CHECK ((start_expected_by IS NULL) = (finish_due_at IS NULL));
