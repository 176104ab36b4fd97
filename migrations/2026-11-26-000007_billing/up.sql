-- Billing (docs/architecture.md, "Billing").

-- A plan change that waits for the end of the paid period (a downgrade, a cancellation at the
-- period's end): next_plan takes over at plan_ends_at. Both set or both NULL.
ALTER TABLE teams ADD COLUMN plan_ends_at timestamptz;
ALTER TABLE teams ADD COLUMN next_plan text
    CHECK (next_plan IN ('free', 'standard', 'premium', 'enterprise'));
ALTER TABLE teams ADD CONSTRAINT teams_next_plan_both
    CHECK ((plan_ends_at IS NULL) = (next_plan IS NULL));
CREATE INDEX teams_plan_ends_idx ON teams (plan_ends_at) WHERE plan_ends_at IS NOT NULL;
-- The `created` time of the last subscription event applied: Stripe delivers out of order, and
-- an older state never overwrites a newer one.
ALTER TABLE teams ADD COLUMN subscription_state_at timestamptz;
-- Set by a failed invoice, cleared by a paid one: the dashboard's banner.
ALTER TABLE teams ADD COLUMN payment_failed_at timestamptz;
