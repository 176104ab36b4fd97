//! `lifeline billing` as a process: its settings, ops endpoints, the webhook changing a plan
//! that `admin team show` then reports, and graceful shutdown.

use chrono::Utc;
use lifeline_billing::test_payloads::{checkout, event, subscription_until};
use lifeline_testkit::stripe::{self, FakeStripe, PRICE_PREMIUM, PRICE_STANDARD, WEBHOOK_SECRET};
use lifeline_testkit::{Role, TestDb};
use serde_json::Value;

use crate::admin::{json, run};
use crate::{create_team, lifeline};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_billing_role_applies_signed_events_and_stops_gracefully() {
    let db = TestDb::new().await;
    let fake = FakeStripe::start().await;
    let with_stripe = lifeline(&db)
        .env("LIFELINE_STRIPE_SECRET_KEY", stripe::SECRET_KEY)
        .env("LIFELINE_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("LIFELINE_STRIPE_PRICE_STANDARD", PRICE_STANDARD)
        .env("LIFELINE_STRIPE_PRICE_PREMIUM", PRICE_PREMIUM)
        .env("LIFELINE_STRIPE_API_BASE", fake.api_base());

    // Part of the Stripe settings: refused at start-up, naming what is missing.
    let partial = lifeline(&db)
        .env("LIFELINE_STRIPE_SECRET_KEY", stripe::SECRET_KEY)
        .run(&["billing"])
        .await;
    assert_eq!(partial.status.code(), Some(2));
    let err = String::from_utf8_lossy(&partial.stderr);
    assert!(err.contains("LIFELINE_STRIPE_WEBHOOK_SECRET"), "{err}");

    let team = json(&db, &create_team("Payers", "free")).await;
    let id = team["id"].as_str().unwrap().to_owned();
    let billing = with_stripe.start(Role::Billing).await;
    let base = billing.billing_base();
    let http = reqwest::Client::new();
    let ready: Value = http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["stripe"], "configured", "{ready}");
    assert_eq!(
        http.get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let now = Utc::now().timestamp();
    let subscription = subscription_until("active", PRICE_PREMIUM, false, now + 86_400 * 30);
    for body in [
        event("evt_1", "checkout.session.completed", now, &checkout(&id)),
        event("evt_2", "customer.subscription.created", now, &subscription),
    ] {
        let res = http
            .post(format!("{base}/billing/stripe/webhook"))
            .header("Stripe-Signature", stripe::sign(&body, WEBHOOK_SECRET, now))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("lifeline_billing_webhooks_total{outcome=\"applied\"} 2"),
        "{metrics}"
    );
    let shown = json(&db, &["admin", "team", "show", &id, "--json"]).await;
    assert_eq!(shown["plan"], "premium", "{shown}");
    assert_eq!(shown["stripe_customer"], "cus_1");

    // The operator's word is the latest: Enterprise, set by hand only.
    json(
        &db,
        &[
            "admin",
            "team",
            "set-plan",
            &id,
            "--plan",
            "enterprise",
            "--json",
        ],
    )
    .await;
    let shown = json(&db, &["admin", "team", "show", &id, "--json"]).await;
    assert_eq!(shown["plan"], "enterprise");

    let status = billing.stop().await;
    assert!(status.success(), "{status:?}");
    let out = run(&db, &["admin", "team", "show", "no-such-id"]).await;
    assert!(!out.status.success());
}
