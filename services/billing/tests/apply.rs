//! Verified events applied to a real database: the plan follows a signed subscription update,
//! a replay changes nothing, a price Lifeline does not sell is acknowledged and ignored.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Utc};
use lifeline_billing::StripeSettings;
use lifeline_billing::apply::{Applied, apply};
use lifeline_billing::events::read;
use lifeline_billing::test_payloads::{checkout, event, invoice, subscription};
use lifeline_domain::{Plan, TeamName};
use lifeline_store::billing::{EventOutcome, state};
use lifeline_store::teams;
use lifeline_testkit::TestDb;
use stripe_webhook::Webhook;

const SECRET: &str = "whsec_test";

fn stripe() -> StripeSettings {
    StripeSettings {
        secret_key: "sk_test".into(),
        webhook_secret: SECRET.into(),
        price_standard: "price_s".into(),
        price_premium: "price_p".into(),
        api_base: "http://127.0.0.1:9/".into(),
    }
}

fn signed_event(
    id: &str,
    kind: &str,
    created: i64,
    object: &str,
) -> lifeline_billing::events::SignedEvent {
    let body = event(id, kind, created, object);
    let header = Webhook::generate_test_header(&body, SECRET, Some(created));
    read(
        &body,
        Some(&header),
        SECRET,
        DateTime::<Utc>::from_timestamp(created, 0).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn signed_events_change_the_plan_once() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let team = teams::create(&mut conn, &TeamName::parse("Acme").unwrap(), Plan::Free)
        .await
        .unwrap()
        .id;
    let t0 = 1_800_000_000;
    let linked = signed_event(
        "evt_c",
        "checkout.session.completed",
        t0,
        &checkout(&team.to_string()),
    );
    assert_eq!(
        apply(&mut conn, &stripe(), &linked).await.unwrap(),
        Applied::Stored(EventOutcome::Applied(None))
    );

    let up = signed_event(
        "evt_up",
        "customer.subscription.updated",
        t0 + 1,
        &subscription("active", "price_p", false),
    );
    let Applied::Stored(EventOutcome::Applied(Some(changed))) =
        apply(&mut conn, &stripe(), &up).await.unwrap()
    else {
        panic!("not applied");
    };
    assert_eq!(changed.to, Plan::Premium);
    assert_eq!(
        apply(&mut conn, &stripe(), &up).await.unwrap(),
        Applied::Stored(EventOutcome::Replayed)
    );

    let odd = signed_event(
        "evt_odd",
        "customer.subscription.updated",
        t0 + 2,
        &subscription("active", "price_other", false),
    );
    assert!(matches!(
        apply(&mut conn, &stripe(), &odd).await.unwrap(),
        Applied::Ignored(_)
    ));
    assert_eq!(state(&mut conn, team).await.unwrap().plan, Plan::Premium);

    let failed = signed_event("evt_f", "invoice.payment_failed", t0 + 3, &invoice());
    apply(&mut conn, &stripe(), &failed).await.unwrap();
    assert!(
        state(&mut conn, team)
            .await
            .unwrap()
            .payment_failed_at
            .is_some()
    );
}
