ALTER TABLE teams DROP COLUMN payment_failed_at;
ALTER TABLE teams DROP COLUMN subscription_state_at;
DROP INDEX teams_plan_ends_idx;
ALTER TABLE teams DROP CONSTRAINT teams_next_plan_both;
ALTER TABLE teams DROP COLUMN next_plan;
ALTER TABLE teams DROP COLUMN plan_ends_at;
