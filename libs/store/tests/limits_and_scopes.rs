//! Store rules that no HTTP test reaches yet: plan limits and team scopes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lifeline_domain::{Email, HeartbeatName, Plan, Role, Schedule, TeamId, TeamName};
use lifeline_store::heartbeats::{self, NewHeartbeat};
use lifeline_store::{StoreError, TeamScope, teams, users};
use lifeline_testkit::TestDb;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_free_plan_stops_at_twenty_heartbeats() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let team = teams::create(&mut conn, &TeamName::parse("Small").unwrap(), Plan::Free)
        .await
        .unwrap();
    let scope = TeamScope::for_operator(&mut conn, team.id).await.unwrap();
    let new = || {
        NewHeartbeat::new(
            HeartbeatName::parse("job").unwrap(),
            Schedule::from_secs(60, 0).unwrap(),
        )
    };
    for _ in 0..20 {
        heartbeats::create(&mut conn, &scope, new()).await.unwrap();
    }
    let refused = heartbeats::create(&mut conn, &scope, new()).await;
    assert!(
        matches!(refused, Err(StoreError::PlanLimit(ref m)) if m.contains("20")),
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scope_needs_a_membership() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let mine = teams::create(&mut conn, &TeamName::parse("Mine").unwrap(), Plan::Standard)
        .await
        .unwrap();
    let theirs = teams::create(
        &mut conn,
        &TeamName::parse("Theirs").unwrap(),
        Plan::Standard,
    )
    .await
    .unwrap();
    let me = users::find_or_create(&mut conn, &Email::parse("Me@Example.com").unwrap(), "Me")
        .await
        .unwrap();
    users::add_membership(&mut conn, mine.id, me, Role::Member)
        .await
        .unwrap();

    let scope = TeamScope::for_member(&mut conn, me, mine.id).await.unwrap();
    assert_eq!(scope.team_id(), mine.id);
    assert_eq!(scope.plan(), Plan::Standard);
    assert!(matches!(
        TeamScope::for_member(&mut conn, me, theirs.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        TeamScope::for_operator(&mut conn, TeamId::new()).await,
        Err(StoreError::NotFound)
    ));
    assert!("emperor".parse::<Role>().is_err());
    assert!(Email::parse("not an email").is_err());
    // Emails are case-insensitive: the same user again.
    assert_eq!(
        users::find_or_create(&mut conn, &Email::parse("me@example.com").unwrap(), "Me")
            .await
            .unwrap(),
        me
    );
}
