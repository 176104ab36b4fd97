//! The decision writer's early-warning rules, fed decisions the domain made: one incident and one
//! notice per channel however often the same warning is written, nothing told when a warning
//! closes quietly, and a payload surprise opening a warning from a ping batch.

use chrono::{DateTime, Duration, TimeZone, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use lifeline_domain::{
    ChannelKind, Decision, FlapPolicy, HeartbeatName, LearnedCadence, PayloadSurprise, Ping,
    PingBatch, PingKind, Plan, Schedule, Status, TeamName, TimeZoneName, WarningChange,
};
use lifeline_testkit::TestDb;

use super::{Decided, DecidedBy, write};
use crate::channels::{self, NewChannel};
use crate::heartbeats::{self, Heartbeat, NewHeartbeat};
use crate::pings::{self, NewPing};
use crate::schema::{heartbeats as hb_table, incidents, notifications};
use crate::{PgConn, TeamScope, teams};

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap() + Duration::minutes(minutes)
}

fn daily() -> Schedule {
    Schedule::from_secs(86_400, 3600).unwrap()
}

/// Usually within 100 min, warned at 115, down at 150.
fn learned() -> LearnedCadence {
    let m = Duration::minutes;
    LearnedCadence::new(m(100), m(115), m(150), daily()).unwrap()
}

/// An AI heartbeat in UTC with one confirmed webhook channel, never pinged.
async fn ai_heartbeat(conn: &mut PgConn) -> (TeamScope, Heartbeat) {
    let team = teams::create(conn, &TeamName::parse("Acme").unwrap(), Plan::Premium)
        .await
        .unwrap();
    let scope = TeamScope::for_operator(conn, team.id).await.unwrap();
    let new = NewHeartbeat::new(HeartbeatName::parse("Nightly backup").unwrap(), daily());
    let hb = heartbeats::create(conn, &scope, new).await.unwrap();
    diesel::update(hb_table::table.find(hb.id.as_uuid()))
        .set(hb_table::mode.eq("ai"))
        .execute(conn)
        .await
        .unwrap();
    let channel = channels::create(
        conn,
        &scope,
        NewChannel {
            kind: ChannelKind::Webhook,
            name: "ops".into(),
            target: "https://a.example/hook".into(),
            secret: Some("whsec_test".into()),
            confirm_token_hash: None,
        },
    )
    .await
    .unwrap();
    heartbeats::attach(conn, &scope, hb.id, channel.id)
        .await
        .unwrap();
    (scope, hb)
}

fn decided(scope: &TeamScope, hb: &Heartbeat, decision: Decision) -> Decided {
    Decided {
        heartbeat: hb.id,
        address: None,
        team: scope.team_id(),
        zone: TimeZoneName::UTC.as_str().to_owned(),
        decision,
    }
}

/// A model's ping applied to the heartbeat as stored.
async fn ai_ping(
    conn: &mut PgConn,
    scope: &TeamScope,
    hb: &Heartbeat,
    ping_at: DateTime<Utc>,
    surprise: Option<PayloadSurprise>,
) -> Decision {
    let stored = heartbeats::find(conn, scope, hb.id).await.unwrap().timing;
    let mut batch = PingBatch::new(stored);
    batch.apply(Ping {
        kind: PingKind::Success,
        exit_code: None,
        at: ping_at,
        learned: Some(learned().with_payload_surprise(surprise)),
    });
    batch.finish()
}

/// Open early warnings of the heartbeat, and notifications queued for it by kind.
async fn counts(conn: &mut PgConn, hb: &Heartbeat) -> (i64, Vec<String>) {
    let open: i64 = incidents::table
        .filter(incidents::heartbeat_id.eq(hb.id.as_uuid()))
        .filter(incidents::kind.eq("early_warning"))
        .filter(incidents::resolved_at.is_null())
        .count()
        .get_result(conn)
        .await
        .unwrap();
    let notices: Vec<String> = notifications::table
        .inner_join(incidents::table)
        .filter(incidents::heartbeat_id.eq(hb.id.as_uuid()))
        .order((notifications::created_at, notifications::kind))
        .select(notifications::kind)
        .load(conn)
        .await
        .unwrap();
    (open, notices)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warning_written_twice_is_one_incident_with_one_notice_per_channel() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let (scope, hb) = ai_heartbeat(&mut conn).await;
    let up = ai_ping(&mut conn, &scope, &hb, at(0), None).await;
    write(
        &conn,
        &[decided(&scope, &hb, up.clone())],
        DecidedBy::Operator,
    )
    .await
    .unwrap();

    // Two replicas (or a retried pass) deciding the same warning.
    let warned = up.timing.decide(at(115), at(115));
    assert!(matches!(warned.warning, Some(WarningChange::Open { .. })));
    let first = write(
        &conn,
        &[decided(&scope, &hb, warned.clone())],
        DecidedBy::Operator,
    )
    .await
    .unwrap();
    let again = write(&conn, &[decided(&scope, &hb, warned)], DecidedBy::Operator)
        .await
        .unwrap();
    assert_eq!((first.notifications, again.notifications), (1, 0));
    assert_eq!(
        counts(&mut conn, &hb).await,
        (1, vec!["early_warning".to_owned()])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warning_closed_quietly_tells_nobody_and_nothing_open_is_not_back_on_track() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let (scope, hb) = ai_heartbeat(&mut conn).await;
    let up = ai_ping(&mut conn, &scope, &hb, at(0), None).await;
    // "Back on track" with no warning open: nothing to resolve, nothing to tell.
    let mut nothing_open = up.clone();
    nothing_open.warning = Some(WarningChange::Resolve {
        at: at(0),
        notify: true,
    });
    let written = write(
        &conn,
        &[decided(&scope, &hb, nothing_open)],
        DecidedBy::Operator,
    )
    .await
    .unwrap();
    assert_eq!(written.notifications, 0);

    let warned = up.timing.decide(at(115), at(115));
    write(
        &conn,
        &[decided(&scope, &hb, warned.clone())],
        DecidedBy::Operator,
    )
    .await
    .unwrap();
    let quiet = warned.timing.decide_pause(at(120));
    assert_eq!(
        quiet.warning,
        Some(WarningChange::Resolve {
            at: at(120),
            notify: false
        })
    );
    let written = write(&conn, &[decided(&scope, &hb, quiet)], DecidedBy::Operator)
        .await
        .unwrap();
    assert_eq!(written.notifications, 0);
    assert_eq!(
        counts(&mut conn, &hb).await,
        (0, vec!["early_warning".to_owned()])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_surprising_payload_warns_at_the_ping_until_a_usual_ping() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let (scope, hb) = ai_heartbeat(&mut conn).await;
    let up = ai_ping(&mut conn, &scope, &hb, at(0), None).await;
    write(&conn, &[decided(&scope, &hb, up)], DecidedBy::Operator)
        .await
        .unwrap();

    let empty = PayloadSurprise {
        size: 0,
        usual: 48_000,
    };
    let surprised = ai_ping(&mut conn, &scope, &hb, at(60), Some(empty)).await;
    let written = write(
        &conn,
        &[decided(&scope, &hb, surprised)],
        DecidedBy::Operator,
    )
    .await
    .unwrap();
    assert_eq!(written.notifications, 1);
    let (reason, deadline): (String, Option<DateTime<Utc>>) = incidents::table
        .filter(incidents::heartbeat_id.eq(hb.id.as_uuid()))
        .select((incidents::reason, incidents::deadline_at))
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        reason,
        "the job reported success with a 0-byte payload; it usually sends about 48000 bytes"
    );
    assert_eq!(deadline, None, "it came with the ping");
    let stored = heartbeats::find(&mut conn, &scope, hb.id).await.unwrap();
    assert_eq!(stored.timing.status, Status::Late);
    assert_eq!(
        stored.next_check_at,
        Some(at(60 + 150)),
        "down if nothing usual comes"
    );

    // A usual ping through the ping API's write path: back on track.
    let usual = NewPing {
        heartbeat: hb.id,
        team: scope.team_id(),
        received: pings::Received::At(at(90)),
        kind: PingKind::Success,
        exit_code: None,
        method: "POST",
        remote_addr: None,
        user_agent: None,
        body_size: 48_000,
        detail: None,
    };
    let staged = pings::stage_batch(
        &mut conn,
        &[usual],
        &mut pings::NoModels,
        &FlapPolicy::default(),
    )
    .await
    .unwrap();
    let (_, wake) = pings::commit_staged(&mut conn, staged).await.unwrap();
    assert!(wake.deliveries, "the notice is queued: delivery must wake");
    assert_eq!(
        counts(&mut conn, &hb).await,
        (0, vec!["early_warning".to_owned(), "recovery".to_owned()])
    );
    let stored = heartbeats::find(&mut conn, &scope, hb.id).await.unwrap();
    assert_eq!(stored.timing.status, Status::Up);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_stored_zone_fails_only_a_warning_write() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let (scope, hb) = ai_heartbeat(&mut conn).await;
    let on_mars = |decision| Decided {
        zone: "Mars/Olympus_Mons".to_owned(),
        ..decided(&scope, &hb, decision)
    };
    // Pings and deadlines that warn nobody never read the zone.
    let up = ai_ping(&mut conn, &scope, &hb, at(0), None).await;
    write(&conn, &[on_mars(up.clone())], DecidedBy::Operator)
        .await
        .unwrap();
    let warned = up.timing.decide(at(115), at(115));
    let refused = write(&conn, &[on_mars(warned)], DecidedBy::Operator).await;
    assert!(
        matches!(refused, Err(crate::StoreError::Invalid(ref m)) if m.contains("Mars/Olympus_Mons")),
        "{refused:?}"
    );
}
