//! Retention per plan: reads hide what the plan no longer keeps at once (a downgrade included),
//! and the purge deletes it.

use chrono::Utc;
use lifeline_domain::{Plan, TeamId};
use lifeline_store::{TeamScope, billing, pings};
use tokio::sync::watch;

use lifeline_testkit::TestApp;

/// Ages in days of the pings every heartbeat gets.
const AGES: [i64; 8] = [1, 6, 8, 29, 31, 89, 91, 364];

async fn with_old_pings(
    app: &TestApp,
    plan: Plan,
) -> (TeamScope, lifeline_store::heartbeats::Heartbeat) {
    let scope = app.team(plan).await;
    let hb = app.heartbeat(&scope, 60, 0).await;
    let values: Vec<String> = AGES
        .iter()
        .map(|d| {
            format!(
                "(now() - interval '{d} days' + interval '1 hour', '{}', '{}', 'success', 'GET')",
                hb.id, hb.team_id
            )
        })
        .collect();
    app.sql(&format!(
        "INSERT INTO pings (received_at, heartbeat_id, team_id, kind, method) VALUES {}",
        values.join(", ")
    ))
    .await;
    (scope, hb)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_plan_keeps_its_history_and_a_downgrade_hides_the_rest_at_once() {
    let app = TestApp::start().await;
    let plans = [
        (Plan::Free, 2),
        (Plan::Standard, 4),
        (Plan::Premium, 6),
        (Plan::Enterprise, 8),
    ];
    let mut made = Vec::new();
    for (plan, visible) in plans {
        let (scope, hb) = with_old_pings(&app, plan).await;
        let mut conn = app.conn().await;
        assert_eq!(
            pings::count(&mut conn, &scope, hb.id).await.unwrap(),
            visible,
            "{plan}"
        );
        made.push((plan, visible, scope, hb));
    }
    let pool = lifeline_store::pg::pool(&app.db.settings).unwrap();
    let settings = app.scheduler_settings();
    let (_stop, running) = watch::channel(false);
    let deleted = lifeline_scheduler::purge::pass(&pool, &settings, &running)
        .await
        .unwrap();
    // Free drops 6, Standard 4, Premium 2, Enterprise nothing.
    assert_eq!(deleted, 12, "what each plan no longer keeps");
    for (plan, visible, _, hb) in &made {
        assert_eq!(
            app.ping_count(hb.id).await,
            *visible,
            "{plan} after the purge"
        );
    }

    // Enterprise downgrades to Free: older history disappears from every read immediately...
    let (_, _, _, hb) = &made[3];
    let team = TeamId::from_uuid(hb.team_id.as_uuid());
    let mut conn = app.conn().await;
    billing::set_plan_by_operator(&mut conn, team, Plan::Free)
        .await
        .unwrap();
    let scope = TeamScope::for_operator(&mut conn, team).await.unwrap();
    assert_eq!(pings::count(&mut conn, &scope, hb.id).await.unwrap(), 2);
    let recent = pings::recent(&mut conn, &scope, hb.id, 100).await.unwrap();
    let cutoff = Utc::now() - chrono::Duration::days(7);
    assert!(recent.iter().all(|p| p.received_at >= cutoff), "{recent:?}");
    // ...and the next purge reclaims it.
    assert_eq!(app.ping_count(hb.id).await, 8);
    let deleted = lifeline_scheduler::purge::pass(&pool, &settings, &running)
        .await
        .unwrap();
    assert_eq!(deleted, 6);
    assert_eq!(app.ping_count(hb.id).await, 2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_purge_works_in_bounded_chunks() {
    let app = TestApp::start().await;
    let (scope, hb) = with_old_pings(&app, Plan::Free).await;
    app.sql(&format!(
        "INSERT INTO pings (received_at, heartbeat_id, team_id, kind, method) \
         SELECT now() - interval '30 days' - n * interval '1 second', '{}', '{}', 'success', 'GET' \
         FROM generate_series(1, 2500) n",
        hb.id, hb.team_id
    ))
    .await;
    let pool = lifeline_store::pg::pool(&app.db.settings).unwrap();
    let mut settings = app.scheduler_settings();
    settings.purge_rows = 100;
    let (_stop, running) = watch::channel(false);
    let deleted = lifeline_scheduler::purge::pass(&pool, &settings, &running)
        .await
        .unwrap();
    assert_eq!(deleted, 2500 + 6);
    let mut conn = app.conn().await;
    assert_eq!(pings::count(&mut conn, &scope, hb.id).await.unwrap(), 2);
    assert_eq!(app.ping_count(hb.id).await, 2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_replica_purges_at_a_time() {
    let app = TestApp::start().await;
    let (_, hb) = with_old_pings(&app, Plan::Free).await;
    let pool = lifeline_store::pg::pool(&app.db.settings).unwrap();
    let settings = app.scheduler_settings();
    let (_stop, running) = watch::channel(false);
    // Another replica is in the middle of its pass.
    let mut other = app.conn().await;
    assert!(
        lifeline_store::retention::try_lock(&mut other)
            .await
            .unwrap()
    );
    let deleted = lifeline_scheduler::purge::pass(&pool, &settings, &running)
        .await
        .unwrap();
    assert_eq!(deleted, 0, "skipped while another replica purges");
    assert_eq!(app.ping_count(hb.id).await, 8);
    lifeline_store::retention::unlock(&mut other).await.unwrap();
    let deleted = lifeline_scheduler::purge::pass(&pool, &settings, &running)
        .await
        .unwrap();
    assert_eq!(deleted, 6);
    app.stop().await;
}

/// Old and recent rows of every history table for one team's heartbeat (ages in days).
async fn with_old_history(app: &TestApp, plan: Plan) -> TeamScope {
    let scope = app.team(plan).await;
    let hb = app.heartbeat(&scope, 60, 0).await;
    let channel = app.webhook(&scope, &hb, "https://hooks.example.com/").await;
    let (hb, team) = (hb.id, scope.team_id());
    let ago = |d: i64| format!("now() - interval '{d} days'");
    let mut sql = String::new();
    for d in [3, 20] {
        sql.push_str(&format!(
            "INSERT INTO status_changes (heartbeat_id, team_id, from_status, to_status, reason, changed_at) \
             VALUES ('{hb}', '{team}', 'up', 'down', 'test', {});",
            ago(d)
        ));
        sql.push_str(&format!(
            "INSERT INTO audit_log (team_id, actor, action, at) VALUES ('{team}', 'system', 'test', {});",
            ago(d)
        ));
    }
    // Resolved 19 days ago, with its alert (sent) and a test notification sent then; a recent
    // incident; an incident open for 30 days; a notification of 20 days still being delivered,
    // with an attempt of 40 days and one of 5.
    sql.push_str(&format!(
        "INSERT INTO incidents (id, heartbeat_id, team_id, kind, reason, opened_at, resolved_at) VALUES \
           ('00000000-0000-7000-8000-000000000001', '{hb}', '{team}', 'down', 'old', {}, {}), \
           (gen_random_uuid(), '{hb}', '{team}', 'down', 'recent', {}, {}), \
           (gen_random_uuid(), '{hb}', '{team}', 'early_warning', 'open', {}, NULL);",
        ago(20),
        ago(19),
        ago(2),
        ago(1),
        ago(30)
    ));
    sql.push_str(&format!(
        "INSERT INTO notifications (id, team_id, incident_id, channel_id, kind, status, created_at) VALUES \
           (gen_random_uuid(), '{team}', '00000000-0000-7000-8000-000000000001', '{channel}', 'alert', 'sent', {old}), \
           (gen_random_uuid(), '{team}', NULL, '{channel}', 'test', 'sent', {old}), \
           ('00000000-0000-7000-8000-0000000000aa', '{team}', NULL, '{channel}', 'test', 'pending', {old}), \
           (gen_random_uuid(), '{team}', NULL, '{channel}', 'test', 'failed', {recent});",
        old = ago(20),
        recent = ago(2)
    ));
    sql.push_str(&format!(
        "INSERT INTO notification_attempts (notification_id, attempt, team_id, started_at) VALUES \
           ('00000000-0000-7000-8000-0000000000aa', 1, '{team}', {}), \
           ('00000000-0000-7000-8000-0000000000aa', 2, '{team}', {});",
        ago(40),
        ago(5)
    ));
    // Each test has its own database: these ids do not clash across tests.
    app.sql(&sql).await;
    scope
}

async fn counts(app: &TestApp, team: TeamId) -> [i64; 5] {
    let mut out = [0; 5];
    for (i, table) in [
        "status_changes",
        "incidents",
        "notifications",
        "audit_log",
        "notification_attempts",
    ]
    .iter()
    .enumerate()
    {
        out[i] = app
            .count(&format!(
                "SELECT count(*) AS n FROM {table} WHERE team_id = '{team}'"
            ))
            .await;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_tables_follow_the_plan_and_the_rest_a_fixed_period() {
    let app = TestApp::start().await;
    let free = with_old_history(&app, Plan::Free).await;
    app.sql(
        "INSERT INTO outages (started_at, ended_at) VALUES \
           (now() - interval '401 days', now() - interval '400 days'), \
           (now() - interval '101 days', now() - interval '100 days'); \
         INSERT INTO audit_log (team_id, actor, action, at) VALUES \
           (NULL, 'operator', 'team.delete', now() - interval '400 days'), \
           (NULL, 'operator', 'team.delete', now() - interval '100 days');",
    )
    .await;
    // status changes, incidents, notifications, audit entries, delivery attempts
    assert_eq!(counts(&app, free.team_id()).await, [2, 3, 4, 2, 2]);

    let pool = lifeline_store::pg::pool(&app.db.settings).unwrap();
    let mut settings = app.scheduler_settings();
    settings.purge_rows = 1; // every table needs several statements: the chunks repeat
    let (_stop, running) = watch::channel(false);
    lifeline_scheduler::purge::pass(&pool, &settings, &running)
        .await
        .unwrap();
    // Free keeps 7 days: the 20-day-old status change, audit entry and sent notifications go,
    // and the incident resolved 19 days ago with its alert. The open incident, the recent
    // one, the notification still being delivered and the recent failure stay. Its attempt of
    // 40 days goes (attempts are kept 30 days), the one of 5 days stays.
    assert_eq!(counts(&app, free.team_id()).await, [1, 2, 2, 1, 1]);
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM incidents WHERE resolved_at IS NULL OR reason = 'recent'"
        )
        .await,
        2
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM notifications WHERE status = 'pending'")
            .await,
        1
    );
    // Outages and audit entries of no team are kept a year.
    assert_eq!(app.count("SELECT count(*) AS n FROM outages").await, 1);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_log WHERE team_id IS NULL")
            .await,
        1
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_longer_plan_keeps_the_same_history() {
    let app = TestApp::start().await;
    let premium = with_old_history(&app, Plan::Premium).await;
    let pool = lifeline_store::pg::pool(&app.db.settings).unwrap();
    let settings = app.scheduler_settings();
    let (_stop, running) = watch::channel(false);
    lifeline_scheduler::purge::pass(&pool, &settings, &running)
        .await
        .unwrap();
    // Premium keeps 90 days: only the 40-day-old delivery attempt (a fixed 30 days) goes.
    assert_eq!(counts(&app, premium.team_id()).await, [2, 3, 4, 2, 1]);
    app.stop().await;
}
