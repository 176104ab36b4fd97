//! Store rules that no HTTP test reaches yet: plan limits, team scopes, and the time zone a
//! heartbeat's local times are in (which the analyzer will ask for).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lifeline_domain::{Email, HeartbeatName, Plan, Role, Schedule, TeamId, TeamName, TimeZoneName};
use lifeline_store::heartbeats::{self, HeartbeatChanges, NewHeartbeat};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heartbeat_is_in_its_own_time_zone_or_else_its_teams() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let zone = |name: &str| TimeZoneName::parse(name).unwrap();
    let team = teams::create(&mut conn, &TeamName::parse("Zones").unwrap(), Plan::Premium)
        .await
        .unwrap();
    assert_eq!(team.time_zone, TimeZoneName::UTC, "a new team is in UTC");
    let scope = TeamScope::for_operator(&mut conn, team.id).await.unwrap();
    let new = NewHeartbeat::new(
        HeartbeatName::parse("report").unwrap(),
        Schedule::from_secs(86_400, 600).unwrap(),
    );
    let hb = heartbeats::create(&mut conn, &scope, new).await.unwrap();
    assert_eq!(hb.time_zone, None);
    let effective = async |conn: &mut _| {
        heartbeats::effective_time_zone(conn, &scope, hb.id)
            .await
            .unwrap()
    };
    assert_eq!(effective(&mut conn).await, TimeZoneName::UTC);

    // The team's zone moves the heartbeats that have none of their own.
    let old = teams::set_time_zone(&mut conn, &scope, zone("Europe/Paris"))
        .await
        .unwrap();
    assert_eq!(old, "UTC");
    assert_eq!(
        teams::time_zone(&mut conn, &scope).await.unwrap(),
        zone("Europe/Paris")
    );
    assert_eq!(effective(&mut conn).await, zone("Europe/Paris"));

    // Its own zone wins, and clearing it follows the team's again.
    let own = HeartbeatChanges {
        time_zone: Some(Some(zone("Asia/Tokyo"))),
        ..HeartbeatChanges::default()
    };
    let edited = heartbeats::edit(&mut conn, &scope, hb.id, own)
        .await
        .unwrap();
    assert_eq!(edited.time_zone, Some(zone("Asia/Tokyo")));
    assert_eq!(
        edited.in_zone_of_team(zone("Europe/Paris")),
        zone("Asia/Tokyo")
    );
    assert_eq!(effective(&mut conn).await, zone("Asia/Tokyo"));
    let untouched = HeartbeatChanges {
        description: Some("monthly".to_owned()),
        ..HeartbeatChanges::default()
    };
    let edited = heartbeats::edit(&mut conn, &scope, hb.id, untouched)
        .await
        .unwrap();
    assert_eq!(
        edited.time_zone,
        Some(zone("Asia/Tokyo")),
        "absent keeps it"
    );
    let cleared = HeartbeatChanges {
        time_zone: Some(None),
        ..HeartbeatChanges::default()
    };
    let edited = heartbeats::edit(&mut conn, &scope, hb.id, cleared)
        .await
        .unwrap();
    assert_eq!(edited.time_zone, None);
    assert_eq!(effective(&mut conn).await, zone("Europe/Paris"));

    // Another team's heartbeat has no zone to tell.
    let other = teams::create(&mut conn, &TeamName::parse("Other").unwrap(), Plan::Free)
        .await
        .unwrap();
    let other = TeamScope::for_operator(&mut conn, other.id).await.unwrap();
    assert!(matches!(
        heartbeats::effective_time_zone(&mut conn, &other, hb.id).await,
        Err(StoreError::NotFound)
    ));
}
