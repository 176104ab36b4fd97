-- The scheduler's single deadline: the earliest instant at which silence would change a
-- heartbeat's status (due_at while up, alert_at while late, a run's progress timeout or maximum
-- run time). It replaces the alert_at index: one index on the hot heartbeat row, not two.
ALTER TABLE heartbeats ADD COLUMN next_check_at timestamptz;
UPDATE heartbeats SET next_check_at = CASE status WHEN 'up' THEN due_at WHEN 'late' THEN alert_at END;
DROP INDEX heartbeats_alert_at_idx;
CREATE INDEX heartbeats_next_check_idx ON heartbeats (next_check_at) WHERE next_check_at IS NOT NULL;

-- The deadline that was missed, so alerts can say since when and latency can be measured.
ALTER TABLE incidents ADD COLUMN deadline_at timestamptz;

-- Every delivery attempt of a notification, including ones abandoned by a process that died
-- mid-send (finished_at stays NULL until the next attempt marks it abandoned).
CREATE TABLE notification_attempts (
    notification_id uuid NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    attempt integer NOT NULL CHECK (attempt > 0),
    team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    outcome text CHECK (outcome IN ('sent', 'failed', 'abandoned')),
    detail text,
    PRIMARY KEY (notification_id, attempt)
);

-- Proof that Lifeline could receive pings: every ingest process writes its row several times a
-- second (LIFELINE_BEACON_MS). alive_since restarts whenever the process could not write for a while (its own
-- outage or Postgres's), so [alive_since, seen_at] is a stretch of continuous coverage.
CREATE TABLE ingest_beacons (
    instance_id uuid PRIMARY KEY,
    alive_since timestamptz NOT NULL,
    seen_at timestamptz NOT NULL,
    CHECK (seen_at >= alive_since)
);

-- One row: how far the scheduler has verified continuous coverage by the beacons.
CREATE TABLE coverage (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    covered_until timestamptz
);
INSERT INTO coverage (id, covered_until) VALUES (true, NULL);

-- Times Lifeline was blind (no ingest alive, or Postgres unreachable), and what it did about it.
CREATE TABLE outages (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at timestamptz NOT NULL,
    ended_at timestamptz NOT NULL CHECK (ended_at > started_at),
    shifted_heartbeats bigint NOT NULL DEFAULT 0,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
