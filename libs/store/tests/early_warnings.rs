//! AI heartbeats' early warnings in storage: learned deadlines stored and read back, the
//! deadline pass opening one `early_warning` incident with its notices, and how it ends — down
//! (quietly), back on track (a recovery notice per channel, never before the warning), paused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use lifeline_domain::{
    Cadence, ChannelKind, FlapPolicy, HeartbeatName, HeartbeatTiming, IncidentKind, LearnedCadence,
    NotificationKind, PingKind, Plan, Schedule, Status, TeamName, TimeZoneName,
};
use lifeline_store::channels::{self, NewChannel};
use lifeline_store::heartbeats::{self, Heartbeat, NewHeartbeat};
use lifeline_store::notifications;
use lifeline_store::pings;
use lifeline_store::schema::{heartbeats as hb_table, incidents, notifications as outbox};
use lifeline_store::{TeamScope, ai_models, deadlines, teams};
use lifeline_testkit::{TestDb, success_ping};

/// 2026-11-25 00:00 UTC: 01:00 in Paris, where the team is.
fn last_ping() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap()
}

fn minutes(m: i64) -> Duration {
    Duration::minutes(m)
}

fn daily() -> Schedule {
    Schedule::from_secs(86_400, 3600).unwrap()
}

/// Usually pings within 100 min (02:40 in Paris), warned at 115 (02:55), down at 150 (03:30);
/// a run is long after 20 min.
fn learned() -> Cadence {
    let cadence = LearnedCadence::new(minutes(100), minutes(115), minutes(150), daily())
        .unwrap()
        .with_run_warning(Some(minutes(20)));
    Cadence::Learned(cadence)
}

/// When an incident was resolved, if it was.
type ResolvedAt = Option<DateTime<Utc>>;

struct Fixture {
    db: TestDb,
    scope: TeamScope,
    hb: Heartbeat,
}

impl Fixture {
    /// A Premium team in Paris with an AI heartbeat (daily fixed schedule), two confirmed
    /// webhook channels and one email address that has not confirmed; pinged at
    /// [`last_ping`], then given the [`learned`] cadence.
    async fn new() -> Fixture {
        let db = TestDb::new().await;
        let mut conn = db.conn().await;
        let team = teams::create(&mut conn, &TeamName::parse("Acme").unwrap(), Plan::Premium)
            .await
            .unwrap();
        let scope = TeamScope::for_operator(&mut conn, team.id).await.unwrap();
        let paris = TimeZoneName::parse("Europe/Paris").unwrap();
        teams::set_time_zone(&mut conn, &scope, paris)
            .await
            .unwrap();
        let new = NewHeartbeat::new(HeartbeatName::parse("Nightly backup").unwrap(), daily());
        let hb = heartbeats::create(&mut conn, &scope, new).await.unwrap();
        // Turning AI mode on is the dashboard's to offer; here the column is set directly.
        diesel::update(hb_table::table.find(hb.id.as_uuid()))
            .set(hb_table::mode.eq("ai"))
            .execute(&mut conn)
            .await
            .unwrap();
        for (kind, target, confirm) in [
            (ChannelKind::Webhook, "https://a.example/hook", None),
            (ChannelKind::Slack, "https://b.example/hook", None),
            (ChannelKind::Email, "ops@example.com", Some([7u8; 32])),
        ] {
            let channel = channels::create(
                &mut conn,
                &scope,
                NewChannel {
                    kind,
                    name: kind.to_string(),
                    target: target.into(),
                    secret: (kind == ChannelKind::Webhook).then(|| "whsec_test".into()),
                    confirm_token_hash: confirm,
                },
            )
            .await
            .unwrap();
            heartbeats::attach(&mut conn, &scope, hb.id, channel.id)
                .await
                .unwrap();
        }
        let fixture = Fixture { db, scope, hb };
        fixture.ping(last_ping()).await;
        let hb = fixture.relearn(learned()).await.expect("an AI heartbeat");
        Fixture { hb, ..fixture }
    }

    /// Counts the heartbeat's deadlines again with `cadence`, as the analyzer does after
    /// training (or when the model goes away); `None` when the heartbeat is not in AI mode.
    async fn relearn(&self, cadence: Cadence) -> Option<Heartbeat> {
        let mut conn = self.conn().await;
        let next = Utc::now() + Duration::days(1);
        let recount = |t: &HeartbeatTiming| t.decide_relearn(cadence, Utc::now());
        ai_models::save_trained(&mut conn, self.hb.id, None, next, recount)
            .await
            .unwrap()?;
        Some(self.reload().await)
    }

    async fn conn(&self) -> AsyncPgConnection {
        self.db.conn().await
    }

    /// A success ping through the ping write path, received at `at`.
    async fn ping(&self, at: DateTime<Utc>) {
        let mut conn = self.conn().await;
        let ping = success_ping(&self.hb, at);
        let staged = pings::stage_batch(
            &mut conn,
            &[ping],
            &mut pings::NoModels,
            &FlapPolicy::default(),
        )
        .await
        .unwrap();
        pings::commit_staged(&mut conn, staged).await.unwrap();
    }

    /// One scheduler pass that judges silence up to `until`.
    async fn deadline_pass(&self, until: DateTime<Utc>) -> deadlines::DueOutcome {
        deadlines::process_due(
            &mut self.conn().await,
            until,
            until,
            100,
            &FlapPolicy::default(),
        )
        .await
        .unwrap()
    }

    async fn reload(&self) -> Heartbeat {
        heartbeats::find(&mut self.conn().await, &self.scope, self.hb.id)
            .await
            .unwrap()
    }

    /// The heartbeat's incidents, oldest first: kind, reason, deadline, resolved or not.
    async fn incidents(&self) -> Vec<(String, String, Option<DateTime<Utc>>, bool)> {
        let rows: Vec<(String, String, Option<DateTime<Utc>>, ResolvedAt)> = incidents::table
            .filter(incidents::heartbeat_id.eq(self.hb.id.as_uuid()))
            .order(incidents::opened_at)
            .select((
                incidents::kind,
                incidents::reason,
                incidents::deadline_at,
                incidents::resolved_at,
            ))
            .load(&mut self.conn().await)
            .await
            .unwrap();
        rows.into_iter()
            .map(|(kind, reason, deadline, resolved)| (kind, reason, deadline, resolved.is_some()))
            .collect()
    }

    /// The notifications queued, by incident kind and notification kind, in order.
    async fn notices(&self) -> Vec<(String, String)> {
        outbox::table
            .inner_join(incidents::table)
            .filter(incidents::heartbeat_id.eq(self.hb.id.as_uuid()))
            .order((outbox::created_at, incidents::kind, outbox::kind))
            .select((incidents::kind, outbox::kind))
            .load(&mut self.conn().await)
            .await
            .unwrap()
    }
}

fn pair(incident: IncidentKind, notice: NotificationKind) -> (String, String) {
    (incident.to_string(), notice.to_string())
}

const WARNED_REASON: &str = "usually pings by 02:40 CET (95% of runs); it is 02:55 with no ping — \
                             it will be marked down at 03:30";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learned_timing_is_stored_and_read_back_equal() {
    let f = Fixture::new().await;
    let stored = f.hb.timing;
    assert_eq!(stored.cadence, learned());
    assert_eq!(stored.status, Status::Up);
    assert_eq!(stored.due_at, Some(last_ping() + minutes(115)));
    assert_eq!(stored.alert_at, Some(last_ping() + minutes(150)));
    assert_eq!(f.hb.next_check_at, Some(last_ping() + minutes(115)));
    // Exactly what the domain decided, read back from the row.
    let mut expected = HeartbeatTiming::new(daily());
    expected.apply_ping(PingKind::Success, last_ping());
    let expected = expected.decide_relearn(learned(), Utc::now()).timing;
    assert_eq!(f.reload().await.timing, expected);
    let (expected_by, run_warning): (Option<DateTime<Utc>>, Option<i32>) = hb_table::table
        .find(f.hb.id.as_uuid())
        .select((hb_table::expected_by, hb_table::run_warning_secs))
        .first(&mut f.conn().await)
        .await
        .unwrap();
    assert_eq!(
        (expected_by, run_warning),
        (Some(last_ping() + minutes(100)), Some(1200))
    );

    // A ping that brings no new model keeps the learned offsets, counted from it.
    let next = last_ping() + minutes(90);
    f.ping(next).await;
    let after = f.reload().await;
    assert_eq!(after.timing.cadence, learned());
    assert_eq!(after.timing.due_at, Some(next + minutes(115)));

    // The model goes away: back to the fixed schedule, the learned columns cleared.
    let fixed = f.relearn(Cadence::Fixed(daily())).await.unwrap();
    assert_eq!(fixed.timing.cadence, Cadence::Fixed(daily()));
    assert_eq!(fixed.timing.due_at, Some(next + Duration::days(1)));
    let learned_columns: (Option<DateTime<Utc>>, Option<i32>) = hb_table::table
        .find(f.hb.id.as_uuid())
        .select((hb_table::expected_by, hb_table::run_warning_secs))
        .first(&mut f.conn().await)
        .await
        .unwrap();
    assert_eq!(learned_columns, (None, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_an_ai_heartbeat_takes_a_learned_cadence() {
    let f = Fixture::new().await;
    let mut conn = f.conn().await;
    diesel::update(hb_table::table.find(f.hb.id.as_uuid()))
        .set(hb_table::mode.eq("fixed"))
        .execute(&mut conn)
        .await
        .unwrap();
    // Stored learned columns mean nothing in fixed mode.
    assert_eq!(f.reload().await.timing.cadence, Cadence::Fixed(daily()));
    assert!(f.relearn(learned()).await.is_none(), "nothing written");
    assert_eq!(f.reload().await.timing.cadence, Cadence::Fixed(daily()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_warns_once_in_local_time_then_down_closes_the_warning_quietly() {
    let f = Fixture::new().await;
    let warn_at = last_ping() + minutes(115);
    let down_at = last_ping() + minutes(150);

    assert_eq!(
        f.deadline_pass(warn_at - Duration::seconds(1))
            .await
            .claimed,
        0
    );
    let warned = f.deadline_pass(warn_at).await;
    assert_eq!((warned.late, warned.down, warned.notifications), (1, 0, 2));
    assert_eq!(
        f.incidents().await,
        [(
            "early_warning".to_owned(),
            WARNED_REASON.to_owned(),
            Some(warn_at),
            false
        )]
    );
    let hb = f.reload().await;
    assert_eq!(hb.timing.status, Status::Late);
    assert_eq!(hb.next_check_at, Some(down_at), "nothing more until down");
    let history = heartbeats::status_history(&mut f.conn().await, &f.scope, f.hb.id, 1)
        .await
        .unwrap();
    assert_eq!(history[0].reason, format!("early warning: {WARNED_REASON}"));

    // Nothing new until the down deadline; then the alert, and the warning closes quietly.
    assert_eq!(
        f.deadline_pass(down_at - Duration::seconds(1))
            .await
            .claimed,
        0
    );
    let down = f.deadline_pass(down_at).await;
    assert_eq!((down.down, down.notifications), (1, 2));
    let incidents = f.incidents().await;
    assert_eq!(incidents.len(), 2);
    assert_eq!(
        (incidents[0].0.as_str(), incidents[0].3),
        ("early_warning", true)
    );
    assert_eq!((incidents[1].0.as_str(), incidents[1].3), ("down", false));
    assert!(
        incidents[1].1.starts_with("no ping since"),
        "{:?}",
        incidents[1]
    );
    let warning = pair(IncidentKind::EarlyWarning, NotificationKind::EarlyWarning);
    let alert = pair(IncidentKind::Down, NotificationKind::Alert);
    assert_eq!(
        f.notices().await,
        [warning.clone(), warning, alert.clone(), alert],
        "one per confirmed channel; no notice for the quiet close"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ping_after_the_warning_is_back_on_track_and_never_told_before_the_warning() {
    let f = Fixture::new().await;
    let warn_at = last_ping() + minutes(115);
    f.deadline_pass(warn_at).await;
    f.ping(warn_at + minutes(5)).await;

    let hb = f.reload().await;
    assert_eq!(hb.timing.status, Status::Up);
    assert_eq!(hb.timing.cadence, learned(), "the learned offsets carry on");
    let incidents = f.incidents().await;
    assert_eq!(incidents.len(), 1);
    assert_eq!(
        (incidents[0].0.as_str(), incidents[0].3),
        ("early_warning", true)
    );
    let warning = pair(IncidentKind::EarlyWarning, NotificationKind::EarlyWarning);
    let back = pair(IncidentKind::EarlyWarning, NotificationKind::Recovery);
    assert_eq!(
        f.notices().await,
        [warning.clone(), warning, back.clone(), back]
    );

    // Delivery hands out the warnings first; "back on track" only once a channel's warning
    // is settled.
    let mut conn = f.conn().await;
    let lease = std::time::Duration::from_secs(60);
    // The fixture's notices are due in its own (future) time: make them due now.
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query("UPDATE notifications SET next_attempt_at = now()"),
        &mut conn,
    )
    .await
    .unwrap();
    let first = notifications::claim(&mut conn, 10, lease).await.unwrap();
    let first: Vec<_> = first.into_iter().map(Result::unwrap).collect();
    assert_eq!(first.len(), 2, "{first:?}");
    for claimed in &first {
        assert_eq!(claimed.kind, NotificationKind::EarlyWarning);
        assert_eq!(claimed.incident_kind, Some(IncidentKind::EarlyWarning));
        assert_eq!(claimed.reason.as_deref(), Some(WARNED_REASON));
        let sent = notifications::Outcome::Sent {
            detail: "200".into(),
        };
        notifications::record(&mut conn, claimed.id, claimed.attempt, sent)
            .await
            .unwrap();
    }
    let then = notifications::claim(&mut conn, 10, lease).await.unwrap();
    let then: Vec<_> = then.into_iter().map(Result::unwrap).collect();
    assert_eq!(then.len(), 2);
    assert!(then.iter().all(|c| c.kind == NotificationKind::Recovery
        && c.incident_kind == Some(IncidentKind::EarlyWarning)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pausing_closes_a_warning_quietly() {
    let f = Fixture::new().await;
    f.deadline_pass(last_ping() + minutes(115)).await;
    heartbeats::pause(&mut f.conn().await, &f.scope, f.hb.id)
        .await
        .unwrap();
    let incidents = f.incidents().await;
    assert_eq!(incidents.len(), 1);
    assert!(incidents[0].3, "resolved");
    let warning = pair(IncidentKind::EarlyWarning, NotificationKind::EarlyWarning);
    assert_eq!(f.notices().await, [warning.clone(), warning]);
}
