//! Billing end to end over HTTP: the billing page, Checkout and the portal through the billing
//! service against a fake Stripe, and signed webhook events — the upgrade, a downgrade at the
//! end of the period, a cancellation, replayed, forged, stale and out-of-order events, a failed
//! payment and its recovery.

use chrono::Utc;
use lifeline_billing::test_payloads::{checkout, event, invoice, subscription_until};
use lifeline_domain::{Email, HeartbeatMode, HeartbeatName, Plan, Role, Schedule};
use lifeline_store::heartbeats::{self, Heartbeat, NewHeartbeat};
use lifeline_store::{TeamScope, accounts, billing, history, users};
use lifeline_testkit::stripe::{self, FakeStripe, PRICE_PREMIUM, PRICE_STANDARD, WEBHOOK_SECRET};
use lifeline_testkit::{PATIENCE, SmtpMode, SmtpServer, TestApp, WebClient, wait_until};
use reqwest::StatusCode;
use serde_json::Value;

use crate::nth_mail_to;

const PASSWORD: &str = "correct horse battery";
const OWNER: &str = "olga@example.com";

/// The first day of a month that has not come yet: a paid period's end.
const PERIOD_END: i64 = 4_102_444_800; // 2100-01-01

/// An owner signed up in the dashboard, and their team.
async fn owner(app: &TestApp, web: &str) -> (WebClient, TeamScope) {
    let mut browser = WebClient::new(web);
    browser.sign_up(OWNER, PASSWORD, "Night Shift").await;
    let mut conn = app.conn().await;
    let (user, _) = accounts::find_login(&mut conn, &Email::parse(OWNER).unwrap())
        .await
        .unwrap()
        .unwrap();
    let team = accounts::memberships(&mut conn, user).await.unwrap()[0].team_id;
    (
        browser,
        TeamScope::for_operator(&mut conn, team).await.unwrap(),
    )
}

/// Posts `body` to the webhook signed at `t` with `secret`; the status and JSON answer.
async fn post_signed(app: &TestApp, body: &str, secret: &str, t: i64) -> (StatusCode, Value) {
    let signature = stripe::sign(body, secret, t);
    post_event(app, body, Some(&signature)).await
}

async fn post_event(app: &TestApp, body: &str, signature: Option<&str>) -> (StatusCode, Value) {
    let mut request = app
        .http
        .post(format!("{}/billing/stripe/webhook", app.billing_base()))
        .header("Content-Type", "application/json")
        .body(body.to_owned());
    if let Some(signature) = signature {
        request = request.header("Stripe-Signature", signature);
    }
    let res = request.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Sends a correctly signed event, now; its JSON answer.
async fn deliver(app: &TestApp, body: &str) -> Value {
    let (status, answer) = post_signed(app, body, WEBHOOK_SECRET, Utc::now().timestamp()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

fn subscription_event(id: &str, kind: &str, created: i64, status: &str, price: &str) -> String {
    let sub = subscription_until(status, price, false, PERIOD_END);
    event(id, kind, created, &sub)
}

/// The heartbeat's visible pings, as every history page and API call of the team sees them.
async fn visible_pings(app: &TestApp, scope: &TeamScope, hb: &Heartbeat) -> usize {
    let mut conn = app.conn().await;
    let scope = TeamScope::for_operator(&mut conn, scope.team_id())
        .await
        .unwrap();
    let (pings, _) = history::pings_page(&mut conn, &scope, hb.id, None, 500)
        .await
        .unwrap();
    pings.len()
}

async fn plan_of(app: &TestApp, scope: &TeamScope) -> Plan {
    billing::state(&mut app.conn().await, scope.team_id())
        .await
        .unwrap()
        .plan
}

/// The team is on Premium through a completed checkout and its subscription (events 1 and 2).
async fn subscribed_premium(app: &TestApp, scope: &TeamScope) {
    let team = scope.team_id().to_string();
    let now = Utc::now().timestamp();
    deliver(
        app,
        &event(
            "evt_checkout",
            "checkout.session.completed",
            now - 10,
            &checkout(&team),
        ),
    )
    .await;
    let created = subscription_event(
        "evt_sub_created",
        "customer.subscription.created",
        now - 9,
        "active",
        PRICE_PREMIUM,
    );
    assert_eq!(deliver(app, &created).await["outcome"], "applied");
    assert_eq!(plan_of(app, scope).await, Plan::Premium);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upgrade_goes_through_checkout_and_takes_effect_with_the_signed_event() {
    let mut app = TestApp::start().await;
    let stripe = FakeStripe::start().await;
    let web = app.start_web_and_billing(Some(&stripe), None).await;
    let (mut browser, scope) = owner(&app, &web).await;

    let page = browser.get("/billing").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.contains(r#"data-plan="free""#), "{}", page.body);
    assert!(page.contains(r#"data-upgrade-to="standard""#));
    assert!(page.contains(r#"data-upgrade-to="premium""#));
    assert!(!page.contains("data-billing-not-configured"));
    assert!(!page.contains("data-portal"), "no customer yet, no portal");

    // Stripe refusing comes back to the page as a message.
    stripe.refuse_next(400, "No such price: 'price_test_premium'");
    let refused = browser
        .post("/billing/checkout", &[("plan", "premium")])
        .await;
    assert_eq!(refused.location(), Some("/billing"), "{}", refused.body);
    let back = browser.follow(&refused).await;
    assert!(
        back.contains("Stripe refused: No such price"),
        "{}",
        back.body
    );

    // The button posts to the dashboard, which asks billing for a Checkout Session.
    let to_stripe = browser
        .post("/billing/checkout", &[("plan", "premium")])
        .await;
    assert_eq!(
        to_stripe.status,
        StatusCode::SEE_OTHER,
        "{}",
        to_stripe.body
    );
    let checkout_url = to_stripe.location().unwrap().to_owned();
    assert!(
        checkout_url.starts_with(&format!("http://{}/checkout/cs_test_", stripe.addr)),
        "{checkout_url}"
    );
    let calls = stripe.calls();
    assert_eq!(calls.len(), 2);
    let call = &calls[1];
    assert_eq!(call.path, "/v1/checkout/sessions");
    assert_eq!(
        call.authorization.as_deref(),
        Some(format!("Bearer {}", stripe::SECRET_KEY).as_str())
    );
    assert_eq!(call.field("mode"), Some("subscription"));
    assert_eq!(
        call.field("client_reference_id"),
        Some(scope.team_id().to_string().as_str())
    );
    assert_eq!(call.field("line_items[0][price]"), Some(PRICE_PREMIUM));
    assert_eq!(call.field("line_items[0][quantity]"), Some("1"));
    assert_eq!(call.field("customer_email"), Some(OWNER));
    assert_eq!(
        call.field("success_url"),
        Some(
            format!("{web}/billing/success?plan=premium&session_id={{CHECKOUT_SESSION_ID}}")
                .as_str()
        )
    );
    assert_eq!(
        call.field("cancel_url"),
        Some(format!("{web}/billing/canceled").as_str())
    );

    // Back from Stripe before its event: the plan has not changed, the page says it is coming.
    let waiting = browser
        .get("/billing/success?plan=premium&session_id=cs_test_1")
        .await;
    assert!(waiting.contains("data-confirming"), "{}", waiting.body);
    assert!(waiting.contains(r#"http-equiv="refresh""#));
    assert_eq!(plan_of(&app, &scope).await, Plan::Free);

    subscribed_premium(&app, &scope).await;
    let confirmed = browser
        .get("/billing/success?plan=premium&session_id=cs_test_1")
        .await;
    assert!(confirmed.contains("data-confirmed"), "{}", confirmed.body);
    assert!(confirmed.contains("AI heartbeats are available"));
    let page = browser.get("/billing").await;
    assert!(page.contains(r#"data-plan="premium""#), "{}", page.body);
    assert!(page.contains("data-portal"), "a customer now: the portal");
    assert!(
        page.contains(r#"data-downgrade-to="standard""#),
        "with a subscription, changes go through the portal: {}",
        page.body
    );
    assert!(
        !page.contains(r#"action="/billing/checkout""#),
        "no second subscription"
    );

    // The customer portal opens for the team's customer.
    let portal = browser.post("/billing/portal", &[("flow", "manage")]).await;
    assert_eq!(portal.status, StatusCode::SEE_OTHER, "{}", portal.body);
    assert!(portal.location().unwrap().contains("/portal/bps_test_"));
    let call = stripe.calls().pop().unwrap();
    assert_eq!(call.path, "/v1/billing_portal/sessions");
    assert_eq!(call.field("customer"), Some("cus_1"));
    assert_eq!(
        call.field("return_url"),
        Some(format!("{web}/billing").as_str())
    );

    // Every change is in the audit log with its event.
    let audit = app
        .count(&format!(
            "SELECT count(*) AS n FROM audit_log WHERE team_id = '{}' AND action = 'team.plan' \
             AND detail->>'stripe_event' = 'evt_sub_created'",
            scope.team_id()
        ))
        .await;
    assert_eq!(audit, 1);

    // Giving up at Checkout changes nothing.
    let canceled = browser.get("/billing/canceled").await;
    assert!(
        canceled.contains(r#"data-checkout="canceled""#),
        "{}",
        canceled.body
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_downgrade_waits_for_the_period_end_and_a_deleted_subscription_ends_the_plan_now() {
    let mut app = TestApp::start().await;
    let stripe = FakeStripe::start().await;
    let web = app.start_web_and_billing(Some(&stripe), None).await;
    let (mut browser, scope) = owner(&app, &web).await;
    subscribed_premium(&app, &scope).await;
    // On Premium: 21 heartbeats (more than Free allows), one in AI mode with 60 days of history.
    let scope = TeamScope::for_operator(&mut app.conn().await, scope.team_id())
        .await
        .unwrap();
    let mut made = Vec::new();
    for n in 0..21 {
        let hb = heartbeats::create(
            &mut app.conn().await,
            &scope,
            NewHeartbeat::new(
                HeartbeatName::parse(&format!("job-{n}")).unwrap(),
                Schedule::from_secs(86_400, 3600).unwrap(),
            ),
        )
        .await
        .unwrap();
        made.push(hb);
    }
    let ai = &made[0];
    app.sql(&format!(
        "INSERT INTO pings (received_at, heartbeat_id, team_id, kind, method, body_size) \
         SELECT now() - g * interval '1 day', '{}', '{}', 'success', 'GET', 0 \
         FROM generate_series(1, 60) g",
        ai.id,
        scope.team_id()
    ))
    .await;
    assert_eq!(
        visible_pings(&app, &scope, ai).await,
        60,
        "Premium keeps 90 days"
    );
    browser.get(&format!("/heartbeats/{}", ai.id)).await;
    let switched = browser
        .post(&format!("/heartbeats/{}/mode", ai.id), &[("mode", "ai")])
        .await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER, "{}", switched.body);
    assert_eq!(app.reload(&scope, ai.id).await.mode, HeartbeatMode::Ai);

    // The owner asks the portal to change the plan: straight into Stripe's update flow.
    browser.get("/billing").await;
    let portal = browser
        .post("/billing/portal", &[("flow", "change_plan")])
        .await;
    assert_eq!(portal.status, StatusCode::SEE_OTHER, "{}", portal.body);
    let call = stripe.calls().pop().unwrap();
    assert_eq!(call.field("flow_data[type]"), Some("subscription_update"));
    assert_eq!(
        call.field("flow_data[subscription_update][subscription]"),
        Some("sub_1")
    );

    // Stripe says: Standard from the next period. The team keeps Premium until then.
    let now = Utc::now().timestamp();
    let downgrade = subscription_event(
        "evt_down",
        "customer.subscription.updated",
        now,
        "active",
        PRICE_STANDARD,
    );
    assert_eq!(deliver(&app, &downgrade).await["outcome"], "applied");
    assert_eq!(plan_of(&app, &scope).await, Plan::Premium);
    let page = browser.get("/billing").await;
    assert!(
        page.contains(r#"data-plan-scheduled="standard""#),
        "{}",
        page.body
    );

    // The period ends: billing's loop moves the team to Standard.
    app.sql(&format!(
        "UPDATE teams SET plan_ends_at = now() - interval '1 second' WHERE id = '{}'",
        scope.team_id()
    ))
    .await;
    assert!(
        wait_until(PATIENCE, async || plan_of(&app, &scope).await
            == Plan::Standard)
        .await,
        "the downgrade was not applied at the period's end"
    );
    let page = browser.get("/billing").await;
    assert!(page.contains(r#"data-plan="standard""#), "{}", page.body);
    assert!(!page.contains("data-plan-scheduled"));
    // Standard has no AI heartbeats and keeps 30 days: the AI heartbeat is back on its fixed
    // interval with a notice, and older history is hidden at once.
    assert_eq!(app.reload(&scope, ai.id).await.mode, HeartbeatMode::Fixed);
    let detail = browser.get(&format!("/heartbeats/{}", ai.id)).await;
    assert!(detail.contains("data-ai-off"), "{}", detail.body);
    assert!(detail.contains("Standard plan does not include AI heartbeats"));
    assert_eq!(
        visible_pings(&app, &scope, ai).await,
        29,
        "Standard shows 30 days"
    );
    let by_period_end = app
        .count(&format!(
            "SELECT count(*) AS n FROM audit_log WHERE team_id = '{}' AND action = 'team.plan' \
             AND detail->>'period_end' = 'true'",
            scope.team_id()
        ))
        .await;
    assert_eq!(by_period_end, 1);

    // Cancelling goes through the portal's cancel flow; Stripe deleting the subscription ends
    // the paid plan at once.
    browser.get("/billing").await;
    browser.post("/billing/portal", &[("flow", "cancel")]).await;
    let call = stripe.calls().pop().unwrap();
    assert_eq!(call.field("flow_data[type]"), Some("subscription_cancel"));
    let deleted = subscription_event(
        "evt_deleted",
        "customer.subscription.deleted",
        now + 1,
        "canceled",
        PRICE_STANDARD,
    );
    assert_eq!(deliver(&app, &deleted).await["outcome"], "applied");
    assert_eq!(plan_of(&app, &scope).await, Plan::Free);
    let page = browser.get("/billing").await;
    assert!(
        page.contains(r#"data-upgrade-to="premium""#),
        "no subscription any more: Checkout again: {}",
        page.body
    );
    // 21 heartbeats on Free (20): all keep monitoring, no new one until the team is under it.
    assert!(page.contains("data-over-limit"), "{}", page.body);
    let last = made.last().unwrap();
    assert_eq!(app.get_status(app.url(last)).await, StatusCode::OK);
    assert_eq!(
        app.reload(&scope, last.id).await.timing.status,
        lifeline_domain::Status::Up
    );
    browser.get("/heartbeats/new").await;
    let refused = browser
        .post(
            "/heartbeats/new",
            &[("name", "one-more"), ("interval", "1h"), ("grace", "5m")],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::PAYMENT_REQUIRED,
        "{}",
        refused.body
    );
    assert!(refused.contains(r#"href="/billing""#));
    for hb in &made[1..3] {
        heartbeats::delete(&mut app.conn().await, &scope, hb.id)
            .await
            .unwrap();
    }
    browser.get("/heartbeats/new").await;
    let created = browser
        .post(
            "/heartbeats/new",
            &[("name", "one-more"), ("interval", "1h"), ("grace", "5m")],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_forged_stale_malformed_and_out_of_order_events_change_nothing() {
    let mut app = TestApp::start().await;
    let stripe = FakeStripe::start().await;
    let web = app.start_web_and_billing(Some(&stripe), None).await;
    let (_browser, scope) = owner(&app, &web).await;
    subscribed_premium(&app, &scope).await;
    let events = async || app.count("SELECT count(*) AS n FROM stripe_events").await;
    let before = events().await;

    let now = Utc::now().timestamp();
    let cancel = subscription_event(
        "evt_cancel",
        "customer.subscription.deleted",
        now,
        "canceled",
        PRICE_PREMIUM,
    );
    // Unsigned, forged (another secret, or a body changed after signing), stale (signed more
    // than 300 s ago), malformed: 400, and nothing changes.
    let (status, _) = post_event(&app, &cancel, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, answer) = post_signed(&app, &cancel, "whsec_someone_else", now).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["error"].as_str().unwrap().contains("does not match"),
        "{answer}"
    );
    let signed = stripe::sign(&cancel, WEBHOOK_SECRET, now);
    let tampered = cancel.replace("evt_cancel", "evt_cancel_2");
    let (status, _) = post_event(&app, &tampered, Some(&signed)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, answer) = post_signed(&app, &cancel, WEBHOOK_SECRET, now - 301).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["error"].as_str().unwrap().contains("300 seconds"),
        "{answer}"
    );
    let (status, _) = post_event(&app, &cancel, Some("t=now,v1=abc")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = post_signed(&app, "{not json", WEBHOOK_SECRET, now).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(plan_of(&app, &scope).await, Plan::Premium);
    assert_eq!(events().await, before);

    // Out of order: an update created before the one already applied is recorded, not applied.
    let older = subscription_event(
        "evt_older",
        "customer.subscription.updated",
        now - 60,
        "active",
        PRICE_STANDARD,
    );
    assert_eq!(deliver(&app, &older).await["outcome"], "stale");
    let state = billing::state(&mut app.conn().await, scope.team_id())
        .await
        .unwrap();
    assert_eq!((state.plan, state.next_plan), (Plan::Premium, None));

    // Replays change nothing, even after later events: the checkout comes again after the
    // subscription was deleted, and the creation comes again too.
    assert_eq!(deliver(&app, &cancel).await["outcome"], "applied");
    assert_eq!(plan_of(&app, &scope).await, Plan::Free);
    let created_again = subscription_event(
        "evt_sub_created",
        "customer.subscription.created",
        now + 5,
        "active",
        PRICE_PREMIUM,
    );
    assert_eq!(deliver(&app, &created_again).await["outcome"], "replayed");
    assert_eq!(plan_of(&app, &scope).await, Plan::Free);

    // Prices Lifeline does not sell and events it does not handle: acknowledged, ignored.
    let foreign = subscription_event(
        "evt_foreign",
        "customer.subscription.created",
        now + 6,
        "active",
        "price_someone_elses",
    );
    assert_eq!(deliver(&app, &foreign).await["outcome"], "ignored");
    let other = event(
        "evt_other",
        "some.future_event",
        now,
        r#"{"id":"x_9","object":"mystery"}"#,
    );
    assert_eq!(deliver(&app, &other).await["outcome"], "ignored");
    assert_eq!(plan_of(&app, &scope).await, Plan::Free);

    // The internal API is the dashboard's only.
    let res = app
        .http
        .post(format!("{}/internal/checkout-sessions", app.billing_base()))
        .json(&serde_json::json!({
            "team": scope.team_id(), "plan": "premium", "email": "x@example.com",
            "success_url": "http://x/", "cancel_url": "http://x/"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(stripe.calls().len(), 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_payment_emails_the_owners_and_shows_a_banner_until_one_succeeds() {
    let mut app = TestApp::start().await;
    let stripe = FakeStripe::start().await;
    let smtp = SmtpServer::start(SmtpMode::Accept).await;
    let web = app
        .start_web_and_billing(Some(&stripe), Some(smtp.url()))
        .await;
    let (mut browser, scope) = owner(&app, &web).await;
    subscribed_premium(&app, &scope).await;
    // A second member sees the banner too, without the owner's link.
    let mut member = WebClient::new(&web);
    member
        .sign_up("max@example.com", PASSWORD, "Elsewhere")
        .await;
    {
        let mut conn = app.conn().await;
        let (user, _) = accounts::find_login(&mut conn, &Email::parse("max@example.com").unwrap())
            .await
            .unwrap()
            .unwrap();
        users::add_membership(&mut conn, scope.team_id(), user, Role::Member)
            .await
            .unwrap();
    }
    let team = scope.team_id().to_string();
    member.get("/heartbeats").await;
    member.post("/teams/switch", &[("team_id", &team)]).await;

    let now = Utc::now().timestamp();
    let failed = event("evt_failed", "invoice.payment_failed", now, &invoice());
    assert_eq!(deliver(&app, &failed).await["outcome"], "applied");
    let mail = nth_mail_to(&smtp, OWNER, 1).await;
    let subject = mail.subject().unwrap_or_default();
    assert!(
        subject.contains("payment for Night Shift failed"),
        "{subject}"
    );
    assert!(
        mail.body().contains(&format!("{web}/billing")),
        "{}",
        mail.body()
    );
    let page = browser.get("/heartbeats").await;
    assert!(page.contains("data-payment-failed"), "{}", page.body);
    assert!(page.contains(r#"href="/billing">Update the payment method"#));
    let page = member.get("/heartbeats").await;
    assert!(page.contains("data-payment-failed"), "{}", page.body);
    assert!(!page.contains(r#"href="/billing">Update"#));
    let billing_page = browser.get("/billing").await;
    assert!(billing_page.contains("data-billing-payment-failed"));
    // The member is not an owner: no billing page, and no email.
    assert_eq!(member.get("/billing").await.status, StatusCode::FORBIDDEN);

    // A replay does not email again.
    assert_eq!(deliver(&app, &failed).await["outcome"], "replayed");

    // A payment goes through: the banner is gone.
    let paid = event("evt_paid", "invoice.paid", now + 1, &invoice());
    assert_eq!(deliver(&app, &paid).await["outcome"], "applied");
    let page = browser.get("/heartbeats").await;
    assert!(!page.contains("data-payment-failed"), "{}", page.body);
    let to_owner = smtp
        .mails()
        .into_iter()
        .filter(|m| m.rcpt_to.iter().any(|r| r == OWNER))
        .count();
    assert_eq!(to_owner, 1, "one email for one failure");
    assert!(
        smtp.mails()
            .iter()
            .all(|m| m.rcpt_to.iter().all(|r| r != "max@example.com"))
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_stripe_settings_the_billing_page_says_billing_is_not_configured() {
    let mut app = TestApp::start().await;
    let web = app.start_web_and_billing(None, None).await;
    let (mut browser, scope) = owner(&app, &web).await;
    let page = browser.get("/billing").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.contains("data-billing-not-configured"),
        "{}",
        page.body
    );
    assert!(page.contains(&format!("lifeline admin team set-plan {}", scope.team_id())));
    assert!(!page.contains("data-upgrade-to"));
    let refused = browser
        .post("/billing/checkout", &[("plan", "premium")])
        .await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    let back = browser.follow(&refused).await;
    assert!(back.contains("billing is not configured"), "{}", back.body);
    let (status, _) = post_signed(&app, "{}", WEBHOOK_SECRET, Utc::now().timestamp()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_the_operator_set_is_changed_by_the_operator_only_downwards() {
    let mut app = TestApp::start().await;
    let stripe = FakeStripe::start().await;
    let web = app.start_web_and_billing(Some(&stripe), None).await;
    let (mut browser, scope) = owner(&app, &web).await;
    billing::set_plan_by_operator(&mut app.conn().await, scope.team_id(), Plan::Standard)
        .await
        .unwrap();
    let page = browser.get("/billing").await;
    assert!(page.contains(r#"data-plan="standard""#), "{}", page.body);
    assert!(
        page.contains(r#"data-upgrade-to="premium""#),
        "{}",
        page.body
    );
    assert!(!page.contains("data-downgrade-to"), "{}", page.body);
    let free_row = page
        .body
        .split(r#"data-plan-row="free""#)
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .unwrap();
    assert!(free_row.contains("Ask the operator"), "{free_row}");

    // Enterprise is the operator's: no checkout, no portal.
    billing::set_plan_by_operator(&mut app.conn().await, scope.team_id(), Plan::Enterprise)
        .await
        .unwrap();
    let page = browser.get("/billing").await;
    assert!(!page.contains("data-upgrade-to"), "{}", page.body);
    assert!(!page.contains("data-downgrade-to"));
    app.stop().await;
}
