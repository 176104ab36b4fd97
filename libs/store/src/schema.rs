// The diesel view of migrations/: keep the two in step (migrations are the source of truth).

diesel::table! {
    teams (id) {
        id -> Uuid,
        name -> Text,
        plan -> Text,
        stripe_customer_id -> Nullable<Text>,
        stripe_subscription_id -> Nullable<Text>,
        created_at -> Timestamptz,
        time_zone -> Text,
        plan_ends_at -> Nullable<Timestamptz>,
        next_plan -> Nullable<Text>,
        subscription_state_at -> Nullable<Timestamptz>,
        payment_failed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        name -> Text,
        password_hash -> Nullable<Text>,
        created_at -> Timestamptz,
        sessions_valid_after -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    memberships (team_id, user_id) {
        team_id -> Uuid,
        user_id -> Uuid,
        role -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    heartbeats (id) {
        id -> Uuid,
        team_id -> Uuid,
        name -> Text,
        description -> Text,
        token -> Text,
        token_hash -> Bytea,
        mode -> Text,
        interval_secs -> Int4,
        grace_secs -> Int4,
        status -> Text,
        last_ping_at -> Nullable<Timestamptz>,
        started_at -> Nullable<Timestamptz>,
        due_at -> Nullable<Timestamptz>,
        alert_at -> Nullable<Timestamptz>,
        max_runtime_secs -> Nullable<Int4>,
        progress_timeout_secs -> Nullable<Int4>,
        last_progress_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        next_check_at -> Nullable<Timestamptz>,
        expected_by -> Nullable<Timestamptz>,
        run_warning_secs -> Nullable<Int4>,
        start_expected_by -> Nullable<Timestamptz>,
        finish_due_at -> Nullable<Timestamptz>,
        model_due_at -> Nullable<Timestamptz>,
        time_zone -> Nullable<Text>,
        ai_off_at -> Nullable<Timestamptz>,
        ai_off_reason -> Nullable<Text>,
    }
}

diesel::table! {
    token_revocations (token_hash) {
        token_hash -> Bytea,
        revoked_at -> Timestamptz,
    }
}

diesel::table! {
    pings (heartbeat_id, received_at, id) {
        id -> Int8,
        received_at -> Timestamptz,
        heartbeat_id -> Uuid,
        team_id -> Uuid,
        kind -> Text,
        exit_code -> Nullable<Int2>,
        method -> Text,
        remote_addr -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        body_size -> Int8,
        duration_ms -> Nullable<Int8>,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    status_changes (id) {
        id -> Int8,
        heartbeat_id -> Uuid,
        team_id -> Uuid,
        from_status -> Text,
        to_status -> Text,
        reason -> Text,
        changed_at -> Timestamptz,
    }
}

diesel::table! {
    incidents (id) {
        id -> Uuid,
        heartbeat_id -> Uuid,
        team_id -> Uuid,
        kind -> Text,
        reason -> Text,
        opened_at -> Timestamptz,
        resolved_at -> Nullable<Timestamptz>,
        deadline_at -> Nullable<Timestamptz>,
        marked_expected_at -> Nullable<Timestamptz>,
        marked_expected_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    channels (id) {
        id -> Uuid,
        team_id -> Uuid,
        kind -> Text,
        name -> Text,
        target -> Text,
        secret -> Nullable<Text>,
        created_at -> Timestamptz,
        confirmed_at -> Nullable<Timestamptz>,
        confirm_token_hash -> Nullable<Bytea>,
    }
}

diesel::table! {
    heartbeat_channels (heartbeat_id, channel_id) {
        heartbeat_id -> Uuid,
        channel_id -> Uuid,
        team_id -> Uuid,
    }
}

diesel::table! {
    notifications (id) {
        id -> Uuid,
        team_id -> Uuid,
        incident_id -> Nullable<Uuid>,
        channel_id -> Uuid,
        kind -> Text,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    ai_models (heartbeat_id) {
        heartbeat_id -> Uuid,
        team_id -> Uuid,
        version -> Int4,
        trained_at -> Timestamptz,
        samples -> Int4,
        window_low_secs -> Float8,
        window_high_secs -> Float8,
        params -> Jsonb,
        window_from -> Timestamptz,
        window_until -> Timestamptz,
    }
}

diesel::table! {
    stripe_events (id) {
        id -> Text,
        kind -> Text,
        team_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        processed_at -> Timestamptz,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Uuid,
        team_id -> Uuid,
        name -> Text,
        prefix -> Text,
        key_hash -> Bytea,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        read_only -> Bool,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Int8,
        team_id -> Nullable<Uuid>,
        actor -> Text,
        action -> Text,
        target -> Text,
        detail -> Jsonb,
        at -> Timestamptz,
    }
}

diesel::table! {
    notification_attempts (notification_id, attempt) {
        notification_id -> Uuid,
        attempt -> Int4,
        team_id -> Uuid,
        started_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
        outcome -> Nullable<Text>,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    ingest_beacons (instance_id) {
        instance_id -> Uuid,
        alive_since -> Timestamptz,
        seen_at -> Timestamptz,
    }
}

diesel::table! {
    coverage (id) {
        id -> Bool,
        covered_until -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    outages (id) {
        id -> Int8,
        started_at -> Timestamptz,
        ended_at -> Timestamptz,
        shifted_heartbeats -> Int8,
        recorded_at -> Timestamptz,
    }
}

diesel::joinable!(memberships -> teams (team_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(heartbeats -> teams (team_id));
diesel::joinable!(pings -> heartbeats (heartbeat_id));
diesel::joinable!(heartbeat_channels -> heartbeats (heartbeat_id));
diesel::joinable!(heartbeat_channels -> channels (channel_id));
diesel::joinable!(incidents -> heartbeats (heartbeat_id));
diesel::joinable!(notifications -> channels (channel_id));
diesel::joinable!(notifications -> incidents (incident_id));
diesel::joinable!(notification_attempts -> notifications (notification_id));
diesel::joinable!(channels -> teams (team_id));

diesel::table! {
    server_secrets (name) {
        name -> Text,
        secret -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    revoked_sessions (jti) {
        jti -> Uuid,
        user_id -> Uuid,
        revoked_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    password_resets (token_hash) {
        token_hash -> Bytea,
        user_id -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    invitations (id) {
        id -> Uuid,
        team_id -> Uuid,
        email -> Text,
        role -> Text,
        token_hash -> Bytea,
        invited_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        accepted_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(invitations -> teams (team_id));
diesel::joinable!(api_keys -> teams (team_id));

diesel::allow_tables_to_appear_in_same_query!(
    teams,
    users,
    memberships,
    heartbeats,
    pings,
    token_revocations,
    status_changes,
    incidents,
    channels,
    heartbeat_channels,
    notifications,
    notification_attempts,
    ingest_beacons,
    coverage,
    outages,
    ai_models,
    stripe_events,
    api_keys,
    audit_log,
    server_secrets,
    revoked_sessions,
    password_resets,
    invitations,
);
