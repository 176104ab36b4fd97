//! The channels pages: creating (a webhook's secret shown once, an email address confirmed by
//! a link), editing, deleting, attaching heartbeats, deliveries and the test button, and who
//! may do what.

use diesel::sql_types::{Int8, Text};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use lifeline_domain::{HeartbeatName, Schedule, TeamId};
use lifeline_store::TeamScope;
use lifeline_store::heartbeats::{self, Heartbeat, NewHeartbeat};
use lifeline_testkit::{
    HttpServer, PATIENCE, Page, Reply, SmtpMode, SmtpServer, TestWeb, WebClient, wait_for,
    wait_until,
};
use reqwest::StatusCode;

const PASSWORD: &str = "correct horse battery";

#[derive(diesel::QueryableByName)]
struct N {
    #[diesel(sql_type = Int8)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct V {
    #[diesel(sql_type = Text)]
    v: String,
}

/// A single number from SQL: the column `n` of its one row.
async fn count(web: &TestWeb, sql: &str) -> i64 {
    let row: N = diesel::sql_query(sql)
        .get_result(&mut web.db.conn().await)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    row.n
}

/// A single text from SQL: the column `v` of its one row.
async fn text(web: &TestWeb, sql: &str) -> String {
    let row: V = diesel::sql_query(sql)
        .get_result(&mut web.db.conn().await)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    row.v
}

async fn exec(web: &TestWeb, sql: &str) {
    web.db.conn().await.batch_execute(sql).await.unwrap();
}

/// The team a user signed up with.
async fn team_of(web: &TestWeb, email: &str) -> TeamId {
    text(
        web,
        &format!(
            "SELECT m.team_id::text AS v FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE u.email = '{email}' AND m.role = 'owner'"
        ),
    )
    .await
    .parse()
    .unwrap()
}

async fn heartbeat(web: &TestWeb, team: TeamId, name: &str) -> Heartbeat {
    let mut conn = web.db.conn().await;
    let scope = TeamScope::for_operator(&mut conn, team).await.unwrap();
    heartbeats::create(
        &mut conn,
        &scope,
        NewHeartbeat::new(
            HeartbeatName::parse(name).unwrap(),
            Schedule::from_secs(3600, 600).unwrap(),
        ),
    )
    .await
    .unwrap()
}

/// A signed-up owner, on the channel list.
async fn owner(web: &TestWeb, email: &str, team: &str) -> WebClient {
    let mut browser = web.client();
    browser.sign_up(email, PASSWORD, team).await;
    browser
}

/// Creates a channel through the form; returns the answer and the new channel's id.
async fn create(browser: &mut WebClient, kind: &str, target: &str, name: &str) -> (Page, String) {
    let form = browser.get("/channels/new").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let page = browser
        .post(
            "/channels/new",
            &[("kind", kind), ("target", target), ("name", name)],
        )
        .await;
    let id = match page.location() {
        Some(location) => location.trim_start_matches("/channels/").to_owned(),
        None => between(&page.body, "data-created=\"", "\"").unwrap_or_default(),
    };
    (page, id)
}

/// The text between `start` and the next `end` in `s`.
fn between(s: &str, start: &str, end: &str) -> Option<String> {
    let from = s.find(start)? + start.len();
    let len = s[from..].find(end)?;
    Some(s[from..from + len].to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_secret_is_shown_once_on_the_answer_to_the_form() {
    let web = TestWeb::start().await;
    let mut browser = owner(&web, "hook@example.com", "Hooks").await;
    let empty = browser.get("/channels").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.contains("No channels yet"), "{}", empty.body);
    assert!(empty.contains("Add your first channel"));

    let (page, id) = create(
        &mut browser,
        "webhook",
        "https://hooks.example.com/lifeline",
        "Ops hook",
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let secret = between(&page.body, "data-secret>", "<").expect("the secret is shown");
    assert!(secret.starts_with("whsec_"), "{secret}");
    let stored = text(
        &web,
        &format!("SELECT secret AS v FROM channels WHERE id = '{id}'"),
    )
    .await;
    assert_eq!(
        stored, secret,
        "the shown secret is the one deliveries are signed with"
    );

    for later in [
        "/channels".to_owned(),
        format!("/channels/{id}"),
        format!("/channels/{id}/edit"),
    ] {
        let page = browser.get(&later).await;
        assert_eq!(page.status, StatusCode::OK, "{later}");
        assert!(page.contains("Ops hook"), "{later}: {}", page.body);
        assert!(!page.contains(&secret), "{later} shows the secret again");
        assert!(!page.contains("data-secret"), "{later}");
    }
    let list = browser.get("/channels").await;
    assert!(list.contains("https://hooks.example.com/lifeline"));
    assert!(
        list.contains("data-confirmed"),
        "webhooks need no confirmation"
    );
    assert_eq!(
        count(
            &web,
            "SELECT count(*) AS n FROM audit_log WHERE action = 'channel.create' \
             AND detail->>'name' = 'Ops hook' AND detail::text NOT LIKE '%whsec_%'"
        )
        .await,
        1,
        "audited, without the secret"
    );
    web.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_channel_alerts_only_after_its_address_confirms_by_post() {
    let smtp = SmtpServer::start(SmtpMode::Accept).await;
    let web = TestWeb::start_with(|s| s, Some(smtp.url())).await;
    let mut browser = owner(&web, "mail@example.com", "Mailers").await;
    let (page, id) = create(&mut browser, "email", "oncall@example.com", "On call").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let channel = browser.follow(&page).await;
    assert!(
        channel.contains("We emailed a confirmation link to oncall@example.com"),
        "{}",
        channel.body
    );
    assert!(channel.contains("data-waiting"));
    assert!(
        !channel.contains("data-send-test"),
        "no test before confirming"
    );
    assert!(
        browser
            .get("/channels")
            .await
            .contains("Waiting for confirmation")
    );

    let mails = wait_for(PATIENCE, async || smtp.mails(), |m| !m.is_empty()).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].rcpt_to, vec!["oncall@example.com".to_owned()]);
    assert!(mails[0].subject().unwrap().contains("Mailers"));
    let body = mails[0].body();
    let prefix = format!("{}/channels/confirm/", web.settings.public_url);
    let token = between(&body, &prefix, "\n").expect("the mail holds the link");
    let link = format!("{prefix}{}", token.trim());
    let stored = count(
        &web,
        &format!(
            "SELECT count(*) AS n FROM channels WHERE id = '{id}' AND confirmed_at IS NULL \
             AND confirm_token_hash = sha256('{}'::bytea)",
            token.trim()
        ),
    )
    .await;
    assert_eq!(stored, 1, "only the link's digest is stored");

    // Testing an unconfirmed address is refused, with what to do.
    browser.get(&format!("/channels/{id}")).await;
    let test = browser.post(&format!("/channels/{id}/test"), &[]).await;
    assert_eq!(test.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(test.contains("confirmation email first"), "{}", test.body);

    // The address's owner, not logged in: opening the link asks, only the POST confirms.
    let mut reader = WebClient::new(&web.base);
    let ask = reader.get(&link).await;
    assert_eq!(ask.status, StatusCode::OK, "{}", ask.body);
    assert!(ask.contains("Mailers") && ask.contains("oncall@example.com"));
    assert!(ask.contains("data-confirm"));
    assert_eq!(
        ask.headers.get("referrer-policy").unwrap(),
        "no-referrer",
        "the secret in the path does not leak"
    );
    let still = "SELECT count(*) AS n FROM channels WHERE confirmed_at IS NULL";
    assert_eq!(count(&web, still).await, 1, "a GET confirms nothing");
    let done = reader.post(&link, &[]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.contains("Confirmed"), "{}", done.body);
    assert_eq!(count(&web, still).await, 0);
    let again = reader.post(&link, &[]).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "the link works once");
    assert!(again.contains("This link does not work"));

    let channel = browser.get(&format!("/channels/{id}")).await;
    assert!(channel.contains("data-confirmed"), "{}", channel.body);
    assert!(channel.contains("data-send-test"));
    assert_eq!(
        count(
            &web,
            "SELECT count(*) AS n FROM audit_log WHERE action = 'channel.confirm'"
        )
        .await,
        1
    );

    // A new address for the channel must confirm again; the old link stays dead.
    browser.get(&format!("/channels/{id}/edit")).await;
    let edited = browser
        .post(
            &format!("/channels/{id}/edit"),
            &[("name", "On call"), ("target", "pager@example.com")],
        )
        .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
    let channel = browser.follow(&edited).await;
    assert!(channel.contains("data-waiting"), "{}", channel.body);
    let mails = wait_for(PATIENCE, async || smtp.mails(), |m| m.len() >= 2).await;
    assert_eq!(mails[1].rcpt_to, vec!["pager@example.com".to_owned()]);

    // Resending replaces the link: only the newest works.
    let first = between(&mails[1].body(), &prefix, "\n").unwrap();
    let resent = browser
        .post(&format!("/channels/{id}/confirmation"), &[])
        .await;
    assert_eq!(resent.status, StatusCode::SEE_OTHER);
    let mails = wait_for(PATIENCE, async || smtp.mails(), |m| m.len() >= 3).await;
    let newest = between(&mails[2].body(), &prefix, "\n").unwrap();
    assert_ne!(first.trim(), newest.trim());
    let old = reader.get(&format!("{prefix}{}", first.trim())).await;
    assert_eq!(old.status, StatusCode::NOT_FOUND);

    // Resending is limited: a few tries, not a way to flood a mailbox.
    for _ in 0..2 {
        let resent = browser
            .post(&format!("/channels/{id}/confirmation"), &[])
            .await;
        assert_eq!(resent.status, StatusCode::SEE_OTHER);
    }
    let refused = browser
        .post(&format!("/channels/{id}/confirmation"), &[])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("try again later"), "{}", refused.body);
    let mails = wait_for(PATIENCE, async || smtp.mails(), |m| m.len() >= 5).await;
    assert_eq!(mails.len(), 5, "the refused resend mailed nothing");
    let newest = between(&mails[4].body(), &prefix, "\n").unwrap();
    let ask = reader.get(&format!("{prefix}{}", newest.trim())).await;
    assert!(ask.contains("pager@example.com"));
    let done = reader
        .post(&format!("{prefix}{}", newest.trim()), &[])
        .await;
    assert_eq!(done.status, StatusCode::OK);
    assert_eq!(count(&web, still).await, 0);
    web.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_smtp_the_channel_page_says_why_no_link_was_sent() {
    let web = TestWeb::start().await;
    let mut browser = owner(&web, "nosmtp@example.com", "Quiet").await;
    let (page, _) = create(&mut browser, "email", "ops@example.com", "").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let channel = browser.follow(&page).await;
    assert!(
        channel.contains("the confirmation email could not be sent"),
        "{}",
        channel.body
    );
    assert!(channel.contains("data-mail-problem"));
    assert!(channel.contains("LIFELINE_SMTP_URL"));
    assert!(
        channel.contains("data-resend"),
        "it can be sent again later"
    );
    assert!(
        channel.contains("<h1>ops@example.com"),
        "an empty name is the address"
    );
    web.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_targets_are_refused_with_a_message() {
    let web = TestWeb::start().await;
    let mut browser = owner(&web, "typo@example.com", "Typos").await;
    for (kind, target, message) in [
        ("webhook", "not a url", "is not a valid URL"),
        ("slack", "ftp://hooks.example.com/x", "must start with http"),
        (
            "webhook",
            "https://user:pw@hooks.example.com/",
            "user name or password",
        ),
        ("webhook", "", "enter the URL"),
        ("email", "not-an-email", "is not a valid email address"),
        ("email", "two@@example.com", "is not a valid email address"),
        ("pager", "https://hooks.example.com/", "choose the kind"),
    ] {
        let (page, _) = create(&mut browser, kind, target, "").await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{kind} {target}: {}",
            page.body
        );
        assert!(page.contains(message), "{kind} {target}: {}", page.body);
    }
    let (page, _) = create(&mut browser, "email", "not-an-email", "Mine").await;
    assert!(
        page.contains("value=\"not-an-email\"") && page.contains("value=\"Mine\""),
        "the form keeps what was typed: {}",
        page.body
    );
    let long = "x".repeat(101);
    let (page, _) = create(&mut browser, "webhook", "https://hooks.example.com/", &long).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("at most 100 characters"));
    assert_eq!(count(&web, "SELECT count(*) AS n FROM channels").await, 0);

    // Editing checks the same way.
    let (_, id) = create(
        &mut browser,
        "webhook",
        "https://hooks.example.com/",
        "Hook",
    )
    .await;
    browser.get(&format!("/channels/{id}/edit")).await;
    let page = browser
        .post(
            &format!("/channels/{id}/edit"),
            &[("name", "Hook"), ("target", "not a url")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("is not a valid URL"), "{}", page.body);
    let page = browser
        .post(
            &format!("/channels/{id}/edit"),
            &[
                ("name", "Renamed"),
                ("target", "https://other.example.com/in"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let page = browser.follow(&page).await;
    assert!(page.contains("Renamed") && page.contains("https://other.example.com/in"));
    assert!(page.contains("data-confirmed"), "a webhook stays confirmed");
    web.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_are_attached_and_detached_on_the_channel_page() {
    let web = TestWeb::start().await;
    let mut browser = owner(&web, "attach@example.com", "Attachers").await;
    let team = team_of(&web, "attach@example.com").await;
    let backup = heartbeat(&web, team, "backup").await;
    let report = heartbeat(&web, team, "report").await;
    let mut other = owner(&web, "other@example.com", "Others").await;
    let foreign = heartbeat(&web, team_of(&web, "other@example.com").await, "theirs").await;
    other.get("/channels").await;

    let (_, id) = create(
        &mut browser,
        "slack",
        "https://hooks.slack.com/services/T/B/x",
        "Slack",
    )
    .await;
    let page = browser.get(&format!("/channels/{id}")).await;
    assert!(page.contains("backup") && page.contains("report"));
    assert!(!page.contains("theirs"), "only the team's heartbeats");
    assert!(page.contains("data-no-deliveries"));

    let attached =
        format!("SELECT count(*) AS n FROM heartbeat_channels WHERE channel_id = '{id}'");
    let (b, r) = (backup.id.to_string(), report.id.to_string());
    let page = browser
        .post(
            &format!("/channels/{id}/heartbeats"),
            &[("heartbeats", b.as_str()), ("heartbeats", r.as_str())],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(count(&web, &attached).await, 2);
    let page = browser.follow(&page).await;
    assert!(page.contains("Attached 2 heartbeats."), "{}", page.body);
    assert!(page.contains(&format!("value=\"{b}\" checked")));
    assert!(
        browser
            .get("/channels")
            .await
            .contains("data-heartbeat-count>2<")
    );

    let page = browser
        .post(
            &format!("/channels/{id}/heartbeats"),
            &[("heartbeats", r.as_str())],
        )
        .await;
    assert_eq!(count(&web, &attached).await, 1);
    let page = browser.follow(&page).await;
    assert!(page.contains("Detached 1 heartbeat."), "{}", page.body);
    assert!(!page.contains(&format!("value=\"{b}\" checked")));

    // Another team's heartbeat cannot be attached, and nothing changes.
    let f = foreign.id.to_string();
    let page = browser
        .post(
            &format!("/channels/{id}/heartbeats"),
            &[("heartbeats", b.as_str()), ("heartbeats", f.as_str())],
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(count(&web, &attached).await, 1);

    browser.get(&format!("/channels/{id}")).await;
    browser
        .post(&format!("/channels/{id}/heartbeats"), &[])
        .await;
    assert_eq!(
        count(&web, &attached).await,
        0,
        "none checked: all detached"
    );
    assert_eq!(
        count(
            &web,
            "SELECT count(*) AS n FROM audit_log WHERE action = 'channel.attach'"
        )
        .await,
        3
    );
    web.stop().await;
}

/// The scheduler, delivering for the dashboard's database.
async fn scheduler(web: &TestWeb) -> lifeline_scheduler::Running {
    let settings = lifeline_scheduler::SchedulerSettings::local(&web.settings.public_url);
    let running = lifeline_scheduler::start(
        settings,
        web.db.settings.clone(),
        lifeline_ops::prometheus(),
    )
    .await
    .unwrap();
    assert!(
        wait_until(PATIENCE, async || web.db.subscribers("wake").await > 0).await,
        "the scheduler listens for wake-ups"
    );
    running
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_test_delivers_through_the_scheduler_and_shows_how_it_went() {
    let web = TestWeb::start().await;
    let scheduler = scheduler(&web).await;
    let hook = HttpServer::ok().await;
    let broken = HttpServer::start(Reply::Status(410, "gone")).await;
    let mut browser = owner(&web, "tester@example.com", "Testers").await;
    let (created, id) = create(&mut browser, "webhook", &hook.url("/hook"), "Receiver").await;
    let secret = between(&created.body, "data-secret>", "<").unwrap();

    browser.get(&format!("/channels/{id}")).await;
    let page = browser.post(&format!("/channels/{id}/test"), &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let page = browser.follow(&page).await;
    assert!(page.contains("Test notification queued"), "{}", page.body);
    assert!(page.contains("data-kind=\"test\""), "{}", page.body);

    let got = hook.wait_for(1, PATIENCE).await;
    assert_eq!(got.len(), 1);
    let request = &got[0];
    assert_eq!(request.header("lifeline-event"), Some("test"));
    assert_eq!(
        request.header("lifeline-signature").unwrap(),
        lifeline_notify::sign(&secret, &request.body),
        "signed with the channel's secret, like alerts"
    );
    let body = request.json();
    assert_eq!(body["type"], "test");
    assert_eq!(body["channel"]["name"], "Receiver");
    assert!(body["heartbeat"].is_null() && body["incident"].is_null());

    let shown = wait_for(
        PATIENCE,
        async || browser.get(&format!("/channels/{id}")).await.body,
        |b| b.contains("data-delivery-status=\"sent\""),
    )
    .await;
    assert!(shown.contains("data-delivery-status=\"sent\""), "{shown}");
    assert!(
        browser
            .get("/channels")
            .await
            .contains("data-status=\"sent\" data-last-delivery")
    );
    let sent = "SELECT count(*) AS n FROM notifications n JOIN notification_attempts a \
                ON a.notification_id = n.id \
                WHERE n.kind = 'test' AND n.incident_id IS NULL AND n.status = 'sent' \
                AND a.outcome = 'sent'";
    assert_eq!(count(&web, sent).await, 1, "one attempt, recorded");

    // A receiver that refuses: the page shows the failure and its error.
    let (_, bad) = create(&mut browser, "webhook", &broken.url("/gone"), "Broken").await;
    browser.get(&format!("/channels/{bad}")).await;
    browser.post(&format!("/channels/{bad}/test"), &[]).await;
    let shown = wait_for(
        PATIENCE,
        async || browser.get(&format!("/channels/{bad}")).await.body,
        |b| b.contains("data-delivery-status=\"failed\""),
    )
    .await;
    assert!(shown.contains("data-delivery-status=\"failed\""), "{shown}");
    assert!(shown.contains("HTTP 410"), "{shown}");
    // What the receiver answered is not the team's to read: only the status is stored.
    let stored_error = "SELECT count(*) AS n FROM notifications WHERE last_error = 'HTTP 410'";
    assert_eq!(count(&web, stored_error).await, 1);
    let leaked = "SELECT count(*) AS n FROM notifications n \
                  LEFT JOIN notification_attempts a ON a.notification_id = n.id \
                  WHERE n.last_error LIKE '%gone%' OR a.detail LIKE '%gone%'";
    assert_eq!(count(&web, leaked).await, 0);
    assert_eq!(
        count(
            &web,
            "SELECT count(*) AS n FROM audit_log WHERE action = 'channel.test'"
        )
        .await,
        2
    );
    scheduler.stop().await;
    web.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_and_viewers_see_channels_but_cannot_change_them() {
    let web = TestWeb::start().await;
    let mut boss = owner(&web, "boss@example.com", "Bossy").await;
    let team = team_of(&web, "boss@example.com").await;
    let (_, id) = create(&mut boss, "webhook", "https://hooks.example.com/", "Hook").await;

    for role in ["member", "viewer"] {
        let email = format!("{role}@example.com");
        let mut user = owner(&web, &email, role).await;
        exec(
            &web,
            &format!(
                "INSERT INTO memberships (team_id, user_id, role) \
                 SELECT '{team}', id, '{role}' FROM users WHERE email = '{email}'"
            ),
        )
        .await;
        user.set_cookie("ll_team", &team.to_string());
        let list = user.get("/channels").await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.contains("Hook"), "{role} sees the team's channels");
        assert!(
            !list.contains("href=\"/channels/new\""),
            "{role}: no button"
        );
        let page = user.get(&format!("/channels/{id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.contains("data-send-test") && !page.contains("/delete\""));
        assert_eq!(
            user.get("/channels/new").await.status,
            StatusCode::FORBIDDEN
        );
        user.get("/channels").await;
        for (path, fields) in [
            (
                "/channels/new".to_owned(),
                vec![("kind", "webhook"), ("target", "https://x.example.com/")],
            ),
            (format!("/channels/{id}/test"), vec![]),
            (format!("/channels/{id}/delete"), vec![]),
            (format!("/channels/{id}/heartbeats"), vec![]),
            (
                format!("/channels/{id}/edit"),
                vec![("name", "Mine"), ("target", "https://x.example.com/")],
            ),
        ] {
            let page = user.post(&path, &fields).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{role} {path}");
            assert!(
                page.contains("only a team admin"),
                "{role} {path}: {}",
                page.body
            );
        }
    }
    assert_eq!(count(&web, "SELECT count(*) AS n FROM channels").await, 1);
    web.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_teams_channel_is_not_found() {
    let web = TestWeb::start().await;
    let mut alice = owner(&web, "alice@example.com", "Alice").await;
    let (_, id) = create(&mut alice, "webhook", "https://hooks.example.com/", "Hers").await;
    let mut mallory = owner(&web, "mallory@example.com", "Mallory").await;
    for path in [
        format!("/channels/{id}"),
        format!("/channels/{id}/edit"),
        format!("/channels/{id}/delete"),
        "/channels/not-an-id".to_owned(),
    ] {
        assert_eq!(
            mallory.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    mallory.get("/channels").await;
    for (path, fields) in [
        (format!("/channels/{id}/test"), vec![]),
        (format!("/channels/{id}/delete"), vec![]),
        (format!("/channels/{id}/heartbeats"), vec![]),
        (format!("/channels/{id}/confirmation"), vec![]),
        (
            format!("/channels/{id}/edit"),
            vec![("name", "Mine"), ("target", "https://evil.example.com/")],
        ),
    ] {
        let page = mallory.post(&path, &fields).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert!(!mallory.get("/channels").await.contains("Hers"));
    let unchanged = "SELECT count(*) AS n FROM channels WHERE name = 'Hers' \
                     AND target = 'https://hooks.example.com/'";
    assert_eq!(count(&web, unchanged).await, 1);
    assert_eq!(
        count(&web, "SELECT count(*) AS n FROM notifications").await,
        0
    );
    web.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_asks_first_then_removes_the_channel() {
    let web = TestWeb::start().await;
    let mut browser = owner(&web, "del@example.com", "Deleters").await;
    let team = team_of(&web, "del@example.com").await;
    let hb = heartbeat(&web, team, "nightly").await;
    let (_, id) = create(&mut browser, "webhook", "https://hooks.example.com/", "Old").await;
    browser.get(&format!("/channels/{id}")).await;
    let hb_id = hb.id.to_string();
    browser
        .post(
            &format!("/channels/{id}/heartbeats"),
            &[("heartbeats", hb_id.as_str())],
        )
        .await;

    let ask = browser.get(&format!("/channels/{id}/delete")).await;
    assert_eq!(ask.status, StatusCode::OK);
    assert!(ask.contains("Delete channel?"));
    assert!(
        ask.contains("gets the alerts of 1 heartbeat"),
        "{}",
        ask.body
    );
    assert_eq!(count(&web, "SELECT count(*) AS n FROM channels").await, 1);

    let page = browser.post(&format!("/channels/{id}/delete"), &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/channels"));
    let list = browser.follow(&page).await;
    assert!(list.contains("Channel deleted."));
    assert!(list.contains("No channels yet"));
    assert_eq!(count(&web, "SELECT count(*) AS n FROM channels").await, 0);
    assert_eq!(
        count(&web, "SELECT count(*) AS n FROM heartbeat_channels").await,
        0
    );
    assert_eq!(
        browser.get(&format!("/channels/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        count(
            &web,
            "SELECT count(*) AS n FROM audit_log WHERE action = 'channel.delete' \
             AND detail->>'name' = 'Old'"
        )
        .await,
        1
    );
    web.stop().await;
}
