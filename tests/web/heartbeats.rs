//! Creating, editing, pausing, resuming and deleting heartbeats from the dashboard, the form's
//! human durations and time zone, the plan limit, roles, and the list's status poll.

use lifeline_domain::{
    ChannelKind, Email, HeartbeatId, HeartbeatName, Role, Schedule, TimeZoneName,
};
use lifeline_store::channels::{self, NewChannel};
use lifeline_store::heartbeats::{self, Heartbeat, NewHeartbeat};
use lifeline_store::{TeamScope, accounts, audit, teams, users};
use lifeline_testkit::{PATIENCE, Page, TestWeb, WebClient, local_settings, wait_until};
use reqwest::StatusCode;
use serde_json::Value;

const PASSWORD: &str = "correct horse battery";

/// A new account of its own team, signed in.
async fn owner(web: &TestWeb, email: &str) -> WebClient {
    let mut browser = web.client();
    browser.sign_up(email, PASSWORD, "Operations").await;
    browser
}

/// The team `email` signed up with, as the test (operator) sees it.
async fn team_of(web: &TestWeb, email: &str) -> TeamScope {
    let mut conn = web.db.conn().await;
    let (user, _) = accounts::find_login(&mut conn, &Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap();
    let team = accounts::memberships(&mut conn, user).await.unwrap()[0].team_id;
    TeamScope::for_operator(&mut conn, team).await.unwrap()
}

async fn stored(web: &TestWeb, scope: &TeamScope) -> Vec<Heartbeat> {
    heartbeats::list(&mut web.db.conn().await, scope)
        .await
        .unwrap()
}

async fn find(web: &TestWeb, scope: &TeamScope, id: HeartbeatId) -> Heartbeat {
    heartbeats::find(&mut web.db.conn().await, scope, id)
        .await
        .unwrap()
}

/// The audit log's actions, oldest first.
async fn audited(web: &TestWeb, scope: &TeamScope) -> Vec<String> {
    let entries = audit::list(&mut web.db.conn().await, scope, None, 100)
        .await
        .unwrap();
    entries.into_iter().rev().map(|e| e.action).collect()
}

/// Creates a heartbeat through the form and returns its id (from the redirect).
async fn create(browser: &mut WebClient, name: &str, interval: &str, grace: &str) -> HeartbeatId {
    browser.get("/heartbeats/new").await;
    let page = browser
        .post(
            "/heartbeats/new",
            &[("name", name), ("interval", interval), ("grace", grace)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    id_in(&page)
}

fn id_in(page: &Page) -> HeartbeatId {
    let location = page.location().unwrap();
    location
        .strip_prefix("/heartbeats/")
        .unwrap_or_else(|| panic!("{location}"))
        .parse()
        .unwrap()
}

/// The `data-status` of the heartbeat's row on the list page.
async fn listed_status(browser: &mut WebClient, id: HeartbeatId) -> String {
    let page = browser.get("/heartbeats").await;
    assert_eq!(page.status, StatusCode::OK);
    let row = format!("data-heartbeat-id=\"{id}\"");
    let at = page
        .body
        .find(&row)
        .unwrap_or_else(|| panic!("{}", page.body));
    let marker = "data-status=\"";
    let start = page.body[at..].find(marker).unwrap() + at + marker.len();
    let end = page.body[start..].find('"').unwrap() + start;
    page.body[start..end].to_owned()
}

async fn statuses(browser: &mut WebClient) -> Value {
    let page = browser.get("/heartbeats/statuses").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    serde_json::from_str(&page.body).unwrap()
}

fn entry(json: &Value, id: HeartbeatId) -> Value {
    json["heartbeats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|hb| hb["id"] == id.to_string())
        .unwrap_or_else(|| panic!("{id} not in {json}"))
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heartbeat_is_created_from_human_durations() {
    let web = TestWeb::start().await;
    let mut browser = owner(&web, "ada@example.com").await;
    let scope = team_of(&web, "ada@example.com").await;

    let form = browser.get("/heartbeats/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.contains(r#"name="interval" value="1d""#),
        "{}",
        form.body
    );
    assert!(form.contains(r#"name="grace" value="1h""#));
    assert!(
        form.contains("data-no-channels"),
        "no channels yet, so it says so"
    );
    assert!(form.contains(r#"href="/channels""#));

    let channel = channels::create(
        &mut web.db.conn().await,
        &scope,
        NewChannel {
            kind: ChannelKind::Email,
            name: "On call".to_owned(),
            target: "oncall@example.com".to_owned(),
            secret: None,
            confirm_token_hash: None,
        },
    )
    .await
    .unwrap();
    let form = browser.get("/heartbeats/new").await;
    let checkbox = format!(r#"name="channels" value="{}""#, channel.id);
    assert!(form.contains(&checkbox), "{}", form.body);
    assert!(!form.contains("data-no-channels"));

    let page = browser
        .post(
            "/heartbeats/new",
            &[
                ("name", "nightly backup"),
                ("interval", "5m"),
                ("grace", "1h 30m"),
                ("max_runtime", "2h"),
                ("progress_timeout", ""),
                ("description", "pg_dump of the main database"),
                ("channels", &channel.id.to_string()),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let id = id_in(&page);
    assert_eq!(page.location(), Some(format!("/heartbeats/{id}").as_str()));

    let hb = find(&web, &scope, id).await;
    assert_eq!(hb.name, "nightly backup");
    assert_eq!(hb.schedule().interval_secs(), 300);
    assert_eq!(hb.schedule().grace_secs(), 5_400);
    assert_eq!(
        hb.timing.limits.max_runtime(),
        Some(chrono::Duration::hours(2))
    );
    assert_eq!(hb.timing.limits.progress_timeout(), None);
    assert_eq!(hb.description, "pg_dump of the main database");
    let attached = heartbeats::channel_ids(&mut web.db.conn().await, &scope, id)
        .await
        .unwrap();
    assert_eq!(attached, vec![channel.id]);

    // The notice comes with the next page.
    let list = browser.get("/heartbeats").await;
    assert!(
        list.contains("data-flash>Created &#34;nightly backup&#34;"),
        "{}",
        list.body
    );
    assert_eq!(listed_status(&mut browser, id).await, "new");
    assert_eq!(
        audited(&web, &scope).await,
        ["team.create", "heartbeat.create"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_durations_are_explained_and_the_input_kept() {
    let web = TestWeb::start().await;
    let mut browser = owner(&web, "grace@example.com").await;
    let scope = team_of(&web, "grace@example.com").await;
    browser.get("/heartbeats/new").await;

    let page = browser
        .post(
            "/heartbeats/new",
            &[
                ("name", "report mailer"),
                ("interval", "5x"),
                ("grace", "1h 30m"),
                ("max_runtime", "-10m"),
                ("description", "weekly report"),
            ],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    assert!(
        page.contains("&quot;5x&quot; is not a duration: use units like 90s, 5m, 1h 30m, 2d")
            || page.contains("&#34;5x&#34; is not a duration: use units like 90s, 5m, 1h 30m, 2d"),
        "{}",
        page.body
    );
    assert!(page.contains("negative"), "max run time: {}", page.body);
    assert!(page.contains(r#"name="name" value="report mailer""#));
    assert!(page.contains(r#"name="interval" value="5x""#));
    assert!(page.contains(r#"name="grace" value="1h 30m""#));
    assert!(page.contains(r#"name="max_runtime" value="-10m""#));
    assert!(page.contains(">weekly report</textarea>"));

    // Durations outside a schedule's bounds are explained too.
    let page = browser
        .post(
            "/heartbeats/new",
            &[("name", "x"), ("interval", "0s"), ("grace", "1h")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("Interval must be between 1 second and 400 days"),
        "{}",
        page.body
    );

    assert!(stored(&web, &scope).await.is_empty(), "nothing was created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_changes_the_schedule() {
    let web = TestWeb::start().await;
    let mut browser = owner(&web, "linus@example.com").await;
    let scope = team_of(&web, "linus@example.com").await;
    let id = create(&mut browser, "sync", "5m", "1h 30m").await;

    let form = browser.get(&format!("/heartbeats/{id}/edit")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.contains(r#"name="name" value="sync""#),
        "{}",
        form.body
    );
    assert!(form.contains(r#"name="interval" value="5 min""#));
    assert!(form.contains(r#"name="grace" value="1 h 30 min""#));

    let page = browser
        .post(
            &format!("/heartbeats/{id}/edit"),
            &[
                ("name", "hourly sync"),
                ("interval", "1 hour"),
                ("grace", "10 min"),
                ("progress_timeout", "15m"),
                ("description", "mirrors the bucket"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), Some(format!("/heartbeats/{id}").as_str()));
    let hb = find(&web, &scope, id).await;
    assert_eq!(hb.name, "hourly sync");
    assert_eq!(hb.schedule().interval_secs(), 3_600);
    assert_eq!(hb.schedule().grace_secs(), 600);
    assert_eq!(
        hb.timing.limits.progress_timeout(),
        Some(chrono::Duration::minutes(15))
    );
    assert_eq!(hb.description, "mirrors the bucket");

    let bad = browser
        .post(
            &format!("/heartbeats/{id}/edit"),
            &[
                ("name", "hourly sync"),
                ("interval", "soon"),
                ("grace", "1m"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.contains(r#"name="interval" value="soon""#));
    assert_eq!(
        find(&web, &scope, id).await.schedule().interval_secs(),
        3_600
    );

    // Another team's heartbeat is not there at all.
    let mut stranger = owner(&web, "mallory@example.com").await;
    let page = stranger.get(&format!("/heartbeats/{id}/edit")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let page = stranger
        .post(
            &format!("/heartbeats/{id}/edit"),
            &[("name", "mine"), ("interval", "1m"), ("grace", "1m")],
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(find(&web, &scope, id).await.name, "hourly sync");

    assert_eq!(
        audited(&web, &scope).await,
        ["team.create", "heartbeat.create", "heartbeat.edit"]
    );
}

/// What the detail page says the heartbeat's zone is: (the zone, whether it is the team's).
async fn shown_time_zone(browser: &mut WebClient, id: HeartbeatId) -> (String, bool) {
    let page = browser.get(&format!("/heartbeats/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let marker = "data-time-zone=\"";
    let start = page
        .body
        .find(marker)
        .unwrap_or_else(|| panic!("no time zone on the page: {}", page.body))
        + marker.len();
    let end = page.body[start..].find('"').unwrap() + start;
    let fact_end = page.body[end..].find("</dd>").unwrap() + end;
    let teams = page.body[end..fact_end].contains("(team default)");
    (page.body[start..end].to_owned(), teams)
}

/// An unknown zone's message as askama escapes it (`"` is `&#34;` or `&quot;`).
fn says_unknown_zone(page: &Page, typed: &str) -> bool {
    ["&#34;", "&quot;"].iter().any(|quote| {
        page.contains(&format!(
            "Unknown time zone {quote}{typed}{quote}: use an IANA name such as Europe/Paris"
        ))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heartbeat_has_its_own_time_zone_or_follows_the_teams() {
    let web = TestWeb::start().await;
    let mut browser = owner(&web, "tz@example.com").await;
    let scope = team_of(&web, "tz@example.com").await;
    let paris = TimeZoneName::parse("Europe/Paris").unwrap();

    let form = browser.get("/heartbeats/new").await;
    assert!(
        form.contains(r#"name="time_zone" value="""#),
        "blank by default: {}",
        form.body
    );
    assert!(form.contains(r#"placeholder="team default (UTC)""#));
    assert!(form.contains(r#"list="time-zones""#));
    assert!(form.contains(r#"<option value="Europe/Paris">"#));

    let page = browser
        .post(
            "/heartbeats/new",
            &[
                ("name", "payroll"),
                ("interval", "1d"),
                ("grace", "1h"),
                ("time_zone", "Europe/Paris"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let id = id_in(&page);
    assert_eq!(find(&web, &scope, id).await.time_zone, Some(paris));
    assert_eq!(
        shown_time_zone(&mut browser, id).await,
        ("Europe/Paris".to_owned(), false)
    );
    let edit = format!("/heartbeats/{id}/edit");
    let form = browser.get(&edit).await;
    assert!(
        form.contains(r#"name="time_zone" value="Europe/Paris""#),
        "{}",
        form.body
    );

    // A name that is not a zone is explained beside the field and kept; nothing changes.
    let fields = |zone: &'static str| {
        [
            ("name", "payroll"),
            ("interval", "1d"),
            ("grace", "1h"),
            ("time_zone", zone),
        ]
    };
    let bad = browser.post(&edit, &fields("Europe/Pariss")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(says_unknown_zone(&bad, "Europe/Pariss"), "{}", bad.body);
    assert!(bad.contains(r#"name="time_zone" value="Europe/Pariss""#));
    assert!(bad.contains("aria-invalid"));
    assert_eq!(find(&web, &scope, id).await.time_zone, Some(paris));
    let bad = browser
        .post(
            "/heartbeats/new",
            &[
                ("name", "other"),
                ("interval", "1d"),
                ("grace", "1h"),
                ("time_zone", "Mars/Olympus"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(says_unknown_zone(&bad, "Mars/Olympus"), "{}", bad.body);
    assert_eq!(stored(&web, &scope).await.len(), 1, "nothing was created");

    // Letter case is forgiven; the name is stored as the tz database spells it.
    let page = browser.post(&edit, &fields("america/new_york")).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(
        find(&web, &scope, id)
            .await
            .time_zone
            .map(|z| z.to_string()),
        Some("America/New_York".to_owned())
    );

    // Cleared, it follows the team's zone, whatever that becomes.
    let page = browser.post(&edit, &fields("")).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(find(&web, &scope, id).await.time_zone, None);
    assert_eq!(
        shown_time_zone(&mut browser, id).await,
        ("UTC".to_owned(), true)
    );
    teams::set_time_zone(
        &mut web.db.conn().await,
        &scope,
        TimeZoneName::parse("Asia/Tokyo").unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        shown_time_zone(&mut browser, id).await,
        ("Asia/Tokyo".to_owned(), true)
    );
    let form = browser.get(&edit).await;
    assert!(
        form.contains(r#"name="time_zone" value="""#),
        "{}",
        form.body
    );
    assert!(form.contains(r#"placeholder="team default (Asia/Tokyo)""#));

    // The audit log keeps the zone each change left.
    let entries = audit::list(&mut web.db.conn().await, &scope, None, 100)
        .await
        .unwrap();
    let zones: Vec<Value> = entries
        .iter()
        .rev()
        .filter(|e| e.action.starts_with("heartbeat."))
        .map(|e| e.detail["time_zone"].clone())
        .collect();
    assert_eq!(
        zones,
        [
            Value::from("Europe/Paris"),
            Value::from("America/New_York"),
            Value::Null
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_and_resume_show_on_the_list_and_in_the_status_poll() {
    let web = TestWeb::start().await;
    let mut browser = owner(&web, "hopper@example.com").await;
    let scope = team_of(&web, "hopper@example.com").await;
    let id = create(&mut browser, "etl", "1h", "5m").await;
    let other = create(&mut browser, "cleanup", "1d", "1h").await;

    let json = statuses(&mut browser).await;
    assert_eq!(json["heartbeats"].as_array().unwrap().len(), 2);
    let row = entry(&json, id);
    assert_eq!(row["status"], "new");
    assert_eq!(row["status_label"], "New");
    assert_eq!(row["last_ping"], "never");
    assert!(row["next_due"].is_string());

    browser.get("/heartbeats").await;
    let page = browser.post(&format!("/heartbeats/{id}/pause"), &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), Some(format!("/heartbeats/{id}").as_str()));
    assert_eq!(listed_status(&mut browser, id).await, "paused");
    assert_eq!(listed_status(&mut browser, other).await, "new");
    let row = entry(&statuses(&mut browser).await, id);
    assert_eq!(row["status"], "paused");
    assert_eq!(row["status_label"], "Paused");

    let page = browser.post(&format!("/heartbeats/{id}/resume"), &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), Some(format!("/heartbeats/{id}").as_str()));
    assert_eq!(listed_status(&mut browser, id).await, "new", "never pinged");

    // A change made elsewhere (the scheduler, the API, another browser) shows in the poll.
    heartbeats::pause(&mut web.db.conn().await, &scope, other)
        .await
        .unwrap();
    let json = statuses(&mut browser).await;
    assert_eq!(entry(&json, other)["status"], "paused");
    assert_eq!(entry(&json, id)["status"], "new");

    // Without the form's token nothing changes.
    let forged = browser
        .post_raw(&format!("/heartbeats/{id}/pause"), &[])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(listed_status(&mut browser, id).await, "new");

    assert_eq!(
        audited(&web, &scope).await,
        [
            "team.create",
            "heartbeat.create",
            "heartbeat.create",
            "heartbeat.pause",
            "heartbeat.resume"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_asks_first_and_then_the_ping_url_stops_working() {
    let web = TestWeb::start().await;
    let ingest = lifeline_ingest::start(local_settings(), web.db.settings.clone())
        .await
        .unwrap();
    let mut browser = owner(&web, "turing@example.com").await;
    let scope = team_of(&web, "turing@example.com").await;
    let id = create(&mut browser, "enigma", "1h", "5m").await;
    let hb = find(&web, &scope, id).await;
    let url = hb.ping_url(&format!("http://{}", ingest.addr));
    let http = reqwest::Client::new();
    let ping = async || http.get(&url).send().await.unwrap().status();
    assert_eq!(ping().await, StatusCode::OK);

    let confirm = browser.get(&format!("/heartbeats/{id}/delete")).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.contains("enigma"));
    assert!(confirm.contains("history"), "{}", confirm.body);
    assert!(confirm.contains("404"));
    assert!(confirm.contains(r#"name="confirm" value="delete""#));

    // A post that did not come from the confirmation deletes nothing.
    let page = browser.post(&format!("/heartbeats/{id}/delete"), &[]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Nothing was deleted"));
    assert_eq!(stored(&web, &scope).await.len(), 1);

    let page = browser
        .post(
            &format!("/heartbeats/{id}/delete"),
            &[("confirm", "delete")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), Some("/heartbeats"));
    let list = browser.follow(&page).await;
    assert!(
        list.contains("data-flash>Deleted &#34;enigma&#34;"),
        "{}",
        list.body
    );
    assert!(!list.contains(&id.to_string()));
    assert!(stored(&web, &scope).await.is_empty());
    assert!(
        wait_until(PATIENCE, async || ping().await == StatusCode::NOT_FOUND).await,
        "the deleted heartbeat's ping URL still answers"
    );
    assert_eq!(
        browser
            .get(&format!("/heartbeats/{id}/delete"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        audited(&web, &scope).await,
        ["team.create", "heartbeat.create", "heartbeat.delete"]
    );
    ingest.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_free_plan_limit_names_the_plan_and_links_to_upgrading() {
    let web = TestWeb::start().await;
    let mut browser = owner(&web, "lovelace@example.com").await;
    let scope = team_of(&web, "lovelace@example.com").await;
    {
        let mut conn = web.db.conn().await;
        for n in 0..20 {
            let name = HeartbeatName::parse(&format!("job {n}")).unwrap();
            let schedule = Schedule::from_secs(3_600, 60).unwrap();
            heartbeats::create(&mut conn, &scope, NewHeartbeat::new(name, schedule))
                .await
                .unwrap();
        }
    }

    let form = browser.get("/heartbeats/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.contains("data-plan-limit"),
        "warned up front: {}",
        form.body
    );

    let page = browser
        .post(
            "/heartbeats/new",
            &[("name", "one more"), ("interval", "1h"), ("grace", "5m")],
        )
        .await;
    assert_eq!(page.status, StatusCode::PAYMENT_REQUIRED, "{}", page.body);
    assert!(
        page.contains("the free plan allows 20 heartbeats; upgrade to add more"),
        "{}",
        page.body
    );
    assert!(page.contains(r##"href="/billing""##));
    assert!(
        page.contains(r#"name="name" value="one more""#),
        "input kept"
    );
    assert_eq!(stored(&web, &scope).await.len(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_read_but_cannot_change_heartbeats() {
    let web = TestWeb::start().await;
    let mut owner_browser = owner(&web, "owner@example.com").await;
    let scope = team_of(&web, "owner@example.com").await;
    let id = create(&mut owner_browser, "billing run", "1d", "1h").await;

    let mut viewer = owner(&web, "viewer@example.com").await;
    {
        let mut conn = web.db.conn().await;
        let (user, _) =
            accounts::find_login(&mut conn, &Email::parse("viewer@example.com").unwrap())
                .await
                .unwrap()
                .unwrap();
        users::add_membership(&mut conn, scope.team_id(), user, Role::Viewer)
            .await
            .unwrap();
    }
    let switched = viewer
        .post(
            "/teams/switch",
            &[("team_id", &scope.team_id().to_string())],
        )
        .await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER, "{}", switched.body);

    let list = viewer.get("/heartbeats").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.contains("billing run"), "{}", list.body);
    assert!(
        !list.contains(r#"href="/heartbeats/new""#),
        "no button for viewers"
    );
    assert_eq!(entry(&statuses(&mut viewer).await, id)["status"], "new");

    for path in [
        "/heartbeats/new".to_owned(),
        format!("/heartbeats/{id}/edit"),
        format!("/heartbeats/{id}/delete"),
    ] {
        let page = viewer.get(&path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "GET {path}");
    }
    let fields = [
        ("name", "hijacked"),
        ("interval", "1m"),
        ("grace", "1m"),
        ("confirm", "delete"),
    ];
    for path in [
        "/heartbeats/new".to_owned(),
        format!("/heartbeats/{id}/edit"),
        format!("/heartbeats/{id}/pause"),
        format!("/heartbeats/{id}/resume"),
        format!("/heartbeats/{id}/delete"),
    ] {
        let page = viewer.post(&path, &fields).await;
        assert_eq!(
            page.status,
            StatusCode::FORBIDDEN,
            "POST {path}: {}",
            page.body
        );
    }
    let hb = find(&web, &scope, id).await;
    assert_eq!(hb.name, "billing run");
    assert_eq!(hb.schedule().interval_secs(), 86_400);
    assert_eq!(stored(&web, &scope).await.len(), 1);
    assert_eq!(
        audited(&web, &scope).await,
        ["team.create", "heartbeat.create"]
    );

    // Without a session the poll is told so, instead of being sent to the login page.
    let mut stranger = web.client();
    let page = stranger.get("/heartbeats/statuses").await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
}
