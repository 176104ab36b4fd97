//! Plan changes in storage: Stripe events applied once and in order, downgrades at the end of
//! the paid period, deletion at once, the payment-failure flag, and the operator's word.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use lifeline_domain::{Plan, Subscription, SubscriptionStatus, TeamId, TeamName};
use lifeline_store::billing::{self, EventOutcome, EventRef};
use lifeline_store::schema::{audit_log, stripe_events};
use lifeline_store::{PgConn, teams};
use lifeline_testkit::TestDb;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap() + Duration::seconds(secs)
}

fn period_end() -> DateTime<Utc> {
    at(30 * 86_400)
}

fn event(id: &str, kind: &'static str, created: i64) -> (String, &'static str, DateTime<Utc>) {
    (id.to_owned(), kind, at(created))
}

fn active(plan: Plan) -> Subscription {
    Subscription {
        status: SubscriptionStatus::Active,
        plan,
        period_end: period_end(),
        cancel_at_period_end: false,
    }
}

/// A Free team that checked out: customer `cus_1`, subscription `sub_1`.
async fn linked(db: &TestDb) -> (PgConn, TeamId) {
    let mut conn = db.conn().await;
    let team = teams::create(&mut conn, &TeamName::parse("Acme").unwrap(), Plan::Free)
        .await
        .unwrap()
        .id;
    let (id, kind, created) = event("evt_checkout", "checkout.session.completed", 0);
    let e = EventRef {
        id: &id,
        kind,
        created,
    };
    let linked = billing::link_checkout(&mut conn, &e, team, "cus_1", Some("sub_1"))
        .await
        .unwrap();
    assert_eq!(linked, EventOutcome::Applied(None));
    (conn, team)
}

async fn subscription_event(
    conn: &mut PgConn,
    id: &str,
    created: i64,
    state: Option<Subscription>,
) -> EventOutcome {
    let e = EventRef {
        id,
        kind: "customer.subscription.updated",
        created: at(created),
    };
    billing::apply_subscription(conn, &e, "cus_1", "sub_1", state)
        .await
        .unwrap()
}

async fn plan(conn: &mut PgConn, team: TeamId) -> Plan {
    billing::state(conn, team).await.unwrap().plan
}

#[tokio::test]
async fn an_upgrade_applies_at_once_and_is_audited_with_its_event() {
    let db = TestDb::new().await;
    let (mut conn, team) = linked(&db).await;
    let outcome = subscription_event(&mut conn, "evt_up", 10, Some(active(Plan::Premium))).await;
    let EventOutcome::Applied(Some(changed)) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!((changed.from, changed.to), (Plan::Free, Plan::Premium));
    let state = billing::state(&mut conn, team).await.unwrap();
    assert_eq!(state.plan, Plan::Premium);
    assert_eq!(state.stripe_customer.as_deref(), Some("cus_1"));
    assert_eq!(state.stripe_subscription.as_deref(), Some("sub_1"));
    let detail: serde_json::Value = audit_log::table
        .filter(audit_log::action.eq("team.plan"))
        .select(audit_log::detail)
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(detail["stripe_event"], "evt_up");
    assert_eq!(detail["to"], "premium");
}

#[tokio::test]
async fn a_replayed_event_changes_nothing_even_after_later_events() {
    let db = TestDb::new().await;
    let (mut conn, team) = linked(&db).await;
    let premium = Some(active(Plan::Premium));
    subscription_event(&mut conn, "evt_up", 10, premium).await;
    // Deleted later, then the upgrade is delivered again.
    subscription_event(&mut conn, "evt_gone", 20, None).await;
    assert_eq!(plan(&mut conn, team).await, Plan::Free);
    let again = subscription_event(&mut conn, "evt_up", 10, premium).await;
    assert_eq!(again, EventOutcome::Replayed);
    assert_eq!(plan(&mut conn, team).await, Plan::Free);
    let processed: i64 = stripe_events::table
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(processed, 3, "checkout, upgrade, deletion: each once");
}

#[tokio::test]
async fn an_older_state_delivered_late_is_not_applied() {
    let db = TestDb::new().await;
    let (mut conn, team) = linked(&db).await;
    subscription_event(&mut conn, "evt_up", 10, Some(active(Plan::Premium))).await;
    // The cancellation (created at 30) arrives before the update created at 20.
    subscription_event(&mut conn, "evt_gone", 30, None).await;
    let late = subscription_event(&mut conn, "evt_std", 20, Some(active(Plan::Standard))).await;
    assert_eq!(late, EventOutcome::Stale);
    assert_eq!(plan(&mut conn, team).await, Plan::Free);
}

#[tokio::test]
async fn a_downgrade_waits_for_the_end_of_the_paid_period() {
    let db = TestDb::new().await;
    let (mut conn, team) = linked(&db).await;
    subscription_event(&mut conn, "evt_up", 10, Some(active(Plan::Premium))).await;
    let down = subscription_event(&mut conn, "evt_down", 20, Some(active(Plan::Standard))).await;
    assert_eq!(down, EventOutcome::Applied(None));
    let state = billing::state(&mut conn, team).await.unwrap();
    assert_eq!(state.plan, Plan::Premium, "paid until the period ends");
    assert_eq!(state.next_plan, Some(Plan::Standard));
    assert_eq!(state.plan_ends_at, Some(period_end()));

    let early = period_end() - Duration::seconds(1);
    let none = billing::apply_due(&mut conn, early, 10).await.unwrap();
    assert_eq!((none.teams, none.changed.len()), (0, 0));
    let due = billing::apply_due(&mut conn, period_end(), 10)
        .await
        .unwrap();
    assert_eq!(due.teams, 1);
    let changed = due.changed;
    assert_eq!(changed.len(), 1);
    assert_eq!(
        (changed[0].from, changed[0].to),
        (Plan::Premium, Plan::Standard)
    );
    let state = billing::state(&mut conn, team).await.unwrap();
    assert_eq!(
        (state.plan, state.next_plan, state.plan_ends_at),
        (Plan::Standard, None, None)
    );
    let again = billing::apply_due(&mut conn, period_end(), 10)
        .await
        .unwrap();
    assert_eq!((again.teams, again.changed.len()), (0, 0));
}

#[tokio::test]
async fn a_cancellation_at_period_end_ends_in_free_and_deletion_ends_at_once() {
    let db = TestDb::new().await;
    let (mut conn, team) = linked(&db).await;
    subscription_event(&mut conn, "evt_up", 10, Some(active(Plan::Premium))).await;
    let cancelling = Subscription {
        cancel_at_period_end: true,
        ..active(Plan::Premium)
    };
    subscription_event(&mut conn, "evt_cancel", 20, Some(cancelling)).await;
    let state = billing::state(&mut conn, team).await.unwrap();
    assert_eq!(
        (state.plan, state.next_plan),
        (Plan::Premium, Some(Plan::Free))
    );
    // Stripe deletes it early (or at the end): Free at once, nothing left scheduled.
    subscription_event(&mut conn, "evt_gone", 30, None).await;
    let state = billing::state(&mut conn, team).await.unwrap();
    assert_eq!((state.plan, state.next_plan), (Plan::Free, None));
    assert_eq!(state.stripe_subscription, None);
}

#[tokio::test]
async fn a_failed_payment_flags_the_team_until_one_succeeds() {
    let db = TestDb::new().await;
    let (mut conn, team) = linked(&db).await;
    let failed = EventRef {
        id: "evt_failed",
        kind: "invoice.payment_failed",
        created: at(40),
    };
    billing::record_payment(&mut conn, &failed, "cus_1", true)
        .await
        .unwrap();
    let state = billing::state(&mut conn, team).await.unwrap();
    assert_eq!(state.payment_failed_at, Some(at(40)));
    let paid = EventRef {
        id: "evt_paid",
        kind: "invoice.paid",
        created: at(50),
    };
    billing::record_payment(&mut conn, &paid, "cus_1", false)
        .await
        .unwrap();
    assert_eq!(
        billing::state(&mut conn, team)
            .await
            .unwrap()
            .payment_failed_at,
        None
    );
    let unknown = EventRef {
        id: "evt_other",
        kind: "invoice.paid",
        created: at(60),
    };
    let outcome = billing::record_payment(&mut conn, &unknown, "cus_nobody", false)
        .await
        .unwrap();
    assert_eq!(outcome, EventOutcome::UnknownTeam);
}

#[tokio::test]
async fn the_operator_sets_enterprise_and_stripe_leaves_it_alone() {
    let db = TestDb::new().await;
    let (mut conn, team) = linked(&db).await;
    subscription_event(&mut conn, "evt_up", 10, Some(active(Plan::Premium))).await;
    subscription_event(&mut conn, "evt_down", 20, Some(active(Plan::Standard))).await;
    let changed = billing::set_plan_by_operator(&mut conn, team, Plan::Enterprise)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.to, Plan::Enterprise);
    let state = billing::state(&mut conn, team).await.unwrap();
    assert_eq!(
        state.next_plan, None,
        "the operator's word drops the scheduled change"
    );
    subscription_event(&mut conn, "evt_gone", 30, None).await;
    assert_eq!(plan(&mut conn, team).await, Plan::Enterprise);
    let actor: String = audit_log::table
        .filter(audit_log::action.eq("team.plan"))
        .order(audit_log::id.desc())
        .select(audit_log::actor)
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(actor, "operator");
}
