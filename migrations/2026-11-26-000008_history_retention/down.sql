DROP INDEX audit_log_teamless_idx;
DROP INDEX outages_ended_idx;
DROP INDEX notification_attempts_started_idx;
