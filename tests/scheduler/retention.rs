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
