//! Sign up → create a heartbeat → read its URL → ping it → see it up with a mark on the chart →
//! on Premium, turn AI mode on → rotate → the old URL is refused; log out and in; create and
//! switch teams; invite a second user who accepts.

use std::time::Duration;

use lifeline_domain::Plan;
use lifeline_store::{billing, teams};
use lifeline_testkit::{SmtpMode, SmtpServer, TestApp, wait_for, wait_until};
use reqwest::StatusCode;

use crate::driver::Browser;

const PASSWORD: &str = "correct horse battery";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_team_monitors_its_first_job() {
    let mut app = TestApp::start().await;
    let smtp = SmtpServer::start(SmtpMode::Accept).await;
    let web = app.start_web(Some(smtp.url())).await;
    let browser = Browser::start().await;

    // Sign up.
    browser.goto(&format!("{web}/signup")).await;
    browser.screenshot("01-signup").await;
    browser
        .sign_up("ada@example.com", PASSWORD, "Analytical Engines")
        .await;
    assert!(browser.text("main").await.contains("No heartbeats yet"));
    browser.screenshot("02-empty-list").await;

    // Create a heartbeat with human units.
    browser
        .fill_new_heartbeat("nightly-backup", "1h", "15m")
        .await;
    browser.screenshot("03-new-heartbeat").await;
    let detail = browser.create_heartbeat().await;

    // Read its URL, ping it like a job would.
    let ping_url = browser
        .attr("[data-ping-url]", "data-ping-url")
        .await
        .unwrap();
    assert!(ping_url.starts_with(&app.base), "{ping_url}");
    let http = reqwest::Client::new();
    assert_eq!(
        http.post(&ping_url).send().await.unwrap().status(),
        StatusCode::OK
    );

    // Up, with a success mark on the chart.
    browser.goto(&format!("{web}{detail}")).await;
    browser.screenshot("04-detail-up").await;
    assert_eq!(
        browser
            .attr(".status[data-status]", "data-status")
            .await
            .as_deref(),
        Some("up")
    );
    assert!(browser.count("svg[data-chart] [data-kind=success]").await >= 1);

    // The list shows it up too.
    browser.goto(&format!("{web}/heartbeats")).await;
    assert_eq!(
        browser
            .attr("[data-status]", "data-status")
            .await
            .as_deref(),
        Some("up")
    );
    browser.screenshot("05-list-up").await;

    // On Premium, AI mode is one click on the heartbeat's page; it starts by learning.
    {
        let mut conn = app.db.conn().await;
        let team = teams::find_by_name(&mut conn, "Analytical Engines")
            .await
            .unwrap()
            .expect("the signed-up team");
        billing::set_plan_by_operator(&mut conn, team.id, Plan::Premium)
            .await
            .unwrap();
    }
    browser.goto(&format!("{web}{detail}")).await;
    browser.click("button[data-mode-switch=ai]").await;
    browser
        .element("section[data-ai-mode=ai] [data-ai-progress]")
        .await;
    assert!(
        browser
            .text("[data-ai-progress]")
            .await
            .contains("of 7 days")
    );
    browser.screenshot("05b-detail-ai-mode").await;

    // Rotate behind the confirmation step; the old URL stops working at once.
    browser.goto(&format!("{web}{detail}/rotate")).await;
    browser.screenshot("06-rotate-confirm").await;
    browser
        .click(&format!(
            "form[action='{detail}/rotate'] button[type=submit]"
        ))
        .await;
    browser.arrive(|p| p == detail).await;
    let new_url = browser
        .attr("[data-ping-url]", "data-ping-url")
        .await
        .unwrap();
    assert_ne!(new_url, ping_url);
    assert_eq!(
        http.post(&ping_url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        http.post(&new_url).send().await.unwrap().status(),
        StatusCode::OK
    );

    // Log out and in again.
    browser.click("[data-logout]").await;
    browser.arrive(|p| p == "/login").await;
    browser.fill("input[name=email]", "ada@example.com").await;
    browser.fill("input[name=password]", PASSWORD).await;
    browser
        .click("form[action='/login'] button[type=submit]")
        .await;
    browser.arrive(|p| p == "/heartbeats").await;
    assert!(browser.text("main").await.contains("nightly-backup"));

    // A second team; switching between the two.
    browser.goto(&format!("{web}/teams/new")).await;
    browser.fill("input[name=team]", "Difference Engines").await;
    browser
        .click("form[action='/teams/new'] button[type=submit]")
        .await;
    // Read the list only once the form's answer replaced the form (else its `main` may be
    // read, or go stale while being read).
    browser.arrive(|p| p == "/heartbeats").await;
    assert!(
        browser.text("main").await.contains("No heartbeats yet"),
        "the new team is empty"
    );
    browser.screenshot("07-second-team").await;
    let teams = browser.count("select[data-team-switch] option").await;
    assert_eq!(teams, 2);
    browser.goto(&format!("{web}/heartbeats")).await;
    let analytical = browser
        .client
        .find(fantoccini::Locator::XPath(
            "//select[@data-team-switch]/option[normalize-space()='Analytical Engines']",
        ))
        .await
        .unwrap();
    analytical.click().await.unwrap();
    // The switcher submits on change (and has a button for browsers without JavaScript).
    assert!(
        wait_until(Duration::from_secs(5), async || {
            browser.text("main").await.contains("nightly-backup")
        })
        .await,
        "switched back to the first team"
    );

    // Invite a second person, who accepts through the emailed link.
    browser.goto(&format!("{web}/team")).await;
    browser
        .fill("input[name=email]", "charles@example.com")
        .await;
    browser
        .click("form[action='/team/invitations'] button[type=submit]")
        .await;
    browser.screenshot("08-invited").await;
    let mails = wait_for(
        Duration::from_secs(10),
        async || smtp.mails(),
        |m| !m.is_empty(),
    )
    .await;
    let body = mails.first().expect("an invitation mail").body();
    let link = body
        .split_whitespace()
        .find(|w| w.contains("/invitations/"))
        .expect("an invitation link")
        .to_owned();
    browser.click("[data-logout]").await;
    // The logout's redirect must land before the link is opened, or it lands after it.
    browser.arrive(|p| p == "/login").await;
    browser.goto(&link).await;
    browser.screenshot("09-invitation").await;
    browser
        .fill("input[name=password]", "babbage-and-lovelace")
        .await;
    browser
        .click("form[action^='/invitations/'] button[type=submit]")
        .await;
    browser.arrive(|p| p == "/heartbeats").await;
    let main = browser.text("main").await;
    assert!(
        main.contains("nightly-backup"),
        "the invited user sees the team's heartbeats"
    );
    assert!(browser.text("header").await.contains("charles@example.com"));
    browser.screenshot("10-invited-user").await;

    browser.close().await;
    app.stop().await;
}
