//! The whole upgrade in a real browser: a Free team's owner clicks "Upgrade to Premium" on the
//! billing page → (fake) Stripe Checkout → Stripe's signed events reach the billing service →
//! back on the dashboard the team is on Premium and a heartbeat's AI switch is there.

use chrono::Utc;
use lifeline_billing::test_payloads::{checkout, event, subscription_until};
use lifeline_store::teams;
use lifeline_testkit::TestApp;
use lifeline_testkit::stripe::{self, FakeStripe, PRICE_PREMIUM, WEBHOOK_SECRET};
use reqwest::StatusCode;

use crate::driver::Browser;

const PASSWORD: &str = "correct horse battery";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_upgrades_to_premium_and_gets_the_ai_switch() {
    let mut app = TestApp::start().await;
    let stripe = FakeStripe::start().await;
    let web = app.start_web_and_billing(Some(&stripe), None).await;
    let browser = Browser::start().await;

    // A Free team with one heartbeat: its AI panel is behind the plan gate.
    browser.goto(&format!("{web}/signup")).await;
    browser
        .sign_up("grace@example.com", PASSWORD, "Compilers")
        .await;
    browser
        .fill_new_heartbeat("nightly-build", "1d", "1h")
        .await;
    let detail = browser.create_heartbeat().await;
    browser.element("[data-plan-gate]").await;
    assert_eq!(browser.count("button[data-mode-switch=ai]").await, 0);

    // The gate's link leads to the billing page; the owner clicks "Upgrade to Premium".
    browser.click("[data-plan-gate] a[data-upgrade]").await;
    browser.arrive(|p| p == "/billing").await;
    browser.element("#current[data-plan=free]").await;
    browser.screenshot("billing-01-free").await;
    browser.click("button[data-upgrade-to=premium]").await;

    // Stripe's (fake) Checkout page, for this team.
    browser.element("#pay").await;
    assert!(
        browser
            .client_url()
            .await
            .starts_with(&format!("http://{}/checkout/", stripe.addr)),
        "not on Checkout"
    );
    browser.screenshot("billing-02-checkout").await;
    let call = stripe.calls().pop().unwrap();
    let team = {
        let mut conn = app.db.conn().await;
        teams::find_by_name(&mut conn, "Compilers")
            .await
            .unwrap()
            .unwrap()
    };
    assert_eq!(
        call.field("client_reference_id"),
        Some(team.id.to_string().as_str())
    );
    assert_eq!(call.field("line_items[0][price]"), Some(PRICE_PREMIUM));

    // Paying: Stripe sends its signed events to the billing service.
    let now = Utc::now().timestamp();
    let completed = event(
        "evt_checkout",
        "checkout.session.completed",
        now,
        &checkout(&team.id.to_string()),
    );
    let created = event(
        "evt_created",
        "customer.subscription.created",
        now,
        &subscription_until("active", PRICE_PREMIUM, false, now + 30 * 86_400),
    );
    for body in [completed, created] {
        let res = app
            .http
            .post(format!("{}/billing/stripe/webhook", app.billing_base()))
            .header("Stripe-Signature", stripe::sign(&body, WEBHOOK_SECRET, now))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    browser.click("#pay").await;

    // Back on the dashboard: Premium, and the AI switch on the heartbeat.
    browser.arrive(|p| p == "/billing/success").await;
    browser.element("[data-confirmed]").await;
    assert!(browser.text("h1").await.contains("Premium"));
    browser.screenshot("billing-03-premium").await;
    browser.goto(&format!("{web}/billing")).await;
    browser.element("#current[data-plan=premium]").await;
    assert_eq!(browser.count("button[data-portal]").await, 1);
    browser.goto(&format!("{web}{detail}")).await;
    assert_eq!(browser.count("[data-plan-gate]").await, 0);
    browser.click("button[data-mode-switch=ai]").await;
    browser.element("section[data-ai-mode=ai]").await;
    browser.screenshot("billing-04-ai-on").await;
    browser.close().await;
    app.stop().await;
}
