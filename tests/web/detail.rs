//! The heartbeat detail page: ping URL and snippets, the timeline chart, the ping log, history
//! within the plan's retention, and rotating the ping URL behind a confirmation.

use diesel_async::SimpleAsyncConnection;
use lifeline_domain::{Email, HeartbeatName, Plan, Role, Schedule};
use lifeline_store::heartbeats::{self, Heartbeat, NewHeartbeat};
use lifeline_store::history::{self, PingCursor};
use lifeline_store::{TeamScope, accounts, billing, teams, users};
use lifeline_testkit::{PATIENCE, Page, TestDb, TestWeb, WebClient, local_settings, wait_until};
use reqwest::StatusCode;

const PASSWORD: &str = "correct horse battery";

/// A signed-up owner of team `team` (on `plan`), its scope, and a heartbeat expected every
/// `interval` seconds with 10 minutes of grace.
async fn owner_with_heartbeat(
    web: &TestWeb,
    email: &str,
    team: &str,
    plan: Plan,
    interval: i64,
) -> (WebClient, TeamScope, Heartbeat) {
    let mut browser = web.client();
    browser.sign_up(email, PASSWORD, team).await;
    let mut conn = web.db.conn().await;
    let found = teams::find_by_name(&mut conn, team).await.unwrap().unwrap();
    billing::set_plan_by_operator(&mut conn, found.id, plan)
        .await
        .unwrap();
    let scope = TeamScope::for_operator(&mut conn, found.id).await.unwrap();
    let hb = heartbeats::create(
        &mut conn,
        &scope,
        NewHeartbeat::new(
            HeartbeatName::parse("nightly-backup").unwrap(),
            Schedule::from_secs(interval, 600).unwrap(),
        ),
    )
    .await
    .unwrap();
    (browser, scope, hb)
}

/// The dashboard and the ping API on one database, ping URLs pointing at that ping API.
async fn web_and_ingest() -> (TestWeb, lifeline_ingest::Running, String) {
    let db = TestDb::new().await;
    let ingest = lifeline_ingest::start(local_settings(), db.settings.clone())
        .await
        .unwrap();
    let ping_base = format!("http://{}", ingest.addr);
    assert!(
        wait_until(PATIENCE, async || db.subscribers("events:tokens").await > 0).await,
        "ingest listens for token changes"
    );
    let base = ping_base.clone();
    let web = TestWeb::start_on(
        db,
        move |mut s| {
            s.ping_url = base;
            s
        },
        None,
    )
    .await;
    (web, ingest, ping_base)
}

/// Runs SQL on the test's database.
async fn sql(web: &TestWeb, sql: &str) {
    web.db.conn().await.batch_execute(sql).await.unwrap();
}

/// Stores `n` pings of `kind` going back from `newest_ago` (an SQL interval) every `step`, and
/// marks the heartbeat as having pinged.
async fn insert_pings(web: &TestWeb, hb: &Heartbeat, n: i64, newest_ago: &str, step: &str) {
    sql(
        web,
        &format!(
            "INSERT INTO pings (received_at, heartbeat_id, team_id, kind, method, body_size) \
             SELECT now() - interval '{newest_ago}' - (g - 1) * interval '{step}', '{id}', '{team}', \
                    'success', 'GET', 0 \
             FROM generate_series(1, {n}) g; \
             UPDATE heartbeats SET status = 'up', \
                    last_ping_at = (SELECT max(received_at) FROM pings WHERE heartbeat_id = '{id}') \
             WHERE id = '{id}';",
            id = hb.id,
            team = hb.team_id,
        ),
    )
    .await;
}

/// The inline SVG chart of a page.
fn chart(page: &Page) -> &str {
    let start = page
        .body
        .find("<svg class=\"chart\"")
        .unwrap_or_else(|| panic!("no chart: {}", page.body));
    let end = start + page.body[start..].find("</svg>").unwrap();
    &page.body[start..end]
}

/// The `data-kind` of every mark of the chart, in order.
fn mark_kinds(page: &Page) -> Vec<String> {
    values(chart(page), "class=\"mark\" data-kind=\"")
}

/// Every value following `marker` up to the next quote.
pub(crate) fn values(html: &str, marker: &str) -> Vec<String> {
    html.match_indices(marker)
        .map(|(i, _)| {
            let rest = &html[i + marker.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

/// The value of attribute `attr` of the chart's `<svg>`.
fn chart_attr(page: &Page, attr: &str) -> String {
    values(chart(page), &format!("{attr}=\""))[0].clone()
}

/// The ids of the log's rows, in order.
fn log_ids(page: &Page) -> Vec<i64> {
    values(&page.body, "<tr data-ping-id=\"")
        .iter()
        .map(|v| v.parse().unwrap())
        .collect()
}

/// The "Older pings" link, unescaped.
fn older_link(page: &Page) -> Option<String> {
    let end = page.body.find("\" data-older>")?;
    let start = page.body[..end].rfind("href=\"")? + "href=\"".len();
    Some(page.body[start..end].replace("&amp;", "&"))
}

/// The page's text with askama's escapes of quotes and ampersands undone.
fn unescaped(page: &Page) -> String {
    page.body
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

fn ping_url(page: &Page) -> String {
    values(&page.body, "data-ping-url=\"")
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("no ping URL: {}", page.body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_sent_to_the_shown_url_appear_in_the_chart_and_the_log() {
    let (web, ingest, ping_base) = web_and_ingest().await;
    let (mut browser, _, hb) =
        owner_with_heartbeat(&web, "ada@example.com", "Analytical", Plan::Free, 3600).await;
    let path = format!("/heartbeats/{}", hb.id);

    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let url = format!("{ping_base}/api/v1/hb/{}", hb.token);
    assert_eq!(ping_url(&page), url);
    assert!(page.contains(&format!(
        "id=\"ping-url\" data-ping-url=\"{url}\">{url}</code>"
    )));
    assert!(page.contains("data-copy=\"#ping-url\""));
    assert!(page.contains("data-status=\"new\""));
    assert!(page.contains("every 1 h (+10 min grace)"), "the schedule");
    assert!(
        page.headers.contains_key("server-timing"),
        "{:?}",
        page.headers
    );
    // Never pinged: the empty state comes first, with the curl line to paste.
    let empty = page.body.find("No pings yet").expect("an empty state");
    let curl = format!("curl -fsS -m 10 --retry 5 {url}");
    assert!(
        empty + page.body[empty..].find(&curl).unwrap() < page.body.find("How to ping it").unwrap()
    );
    assert!(!page.contains("<svg class=\"chart\""), "no empty chart yet");
    // The other snippets: success and failure apart, and Python.
    assert!(page.contains(&format!("{url}/start")));
    assert!(page.contains(&format!("{url}/fail")));
    assert!(page.contains(&format!("{url}/$?")));
    assert!(unescaped(&page).contains(&format!("PING_URL = \"{url}\"")));
    // A viewer's page and a member's: the owner sees the management links.
    assert!(page.contains(&format!("href=\"/heartbeats/{}/edit\"", hb.id)));
    assert!(page.contains(&format!("action=\"/heartbeats/{}/pause\"", hb.id)));
    assert!(page.contains(&format!("href=\"/heartbeats/{}/rotate\"", hb.id)));

    post_pings(
        &url,
        &[
            ("/start", ""),
            ("", ""),
            ("/progress", "step 2 of 3"),
            ("/fail", ""),
        ],
    )
    .await;
    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.contains("No pings yet"));
    assert_eq!(mark_kinds(&page), ["start", "success", "progress", "fail"]);
    assert_eq!(chart_attr(&page, "data-range"), "1d", "the default range");
    assert!(
        page.contains("data-status=\"down\""),
        "a failure is down at once"
    );
    let kinds = values(&page.body, "<span class=\"ping-kind\" data-kind=\"");
    assert_eq!(
        kinds,
        ["fail", "progress", "success", "start"],
        "newest first"
    );
    assert!(page.contains("step 2 of 3"), "the progress detail");
    assert!(
        page.contains("POST 127.0.0.1"),
        "the method and source address"
    );
    assert!(page.contains("11 B"), "the body size");
    // The failure opened an incident: listed, and shaded on the chart.
    assert!(page.contains("data-incidents"), "{}", page.body);
    assert!(chart(&page).contains("data-band=\"incident\""));
    ingest.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_behind_the_confirmation_changes_the_url_and_kills_the_old_one() {
    let (web, ingest, _) = web_and_ingest().await;
    let (mut browser, scope, hb) =
        owner_with_heartbeat(&web, "grace@example.com", "Navy", Plan::Free, 3600).await;
    let path = format!("/heartbeats/{}", hb.id);
    let old = ping_url(&browser.get(&path).await);
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(&old).send().await.unwrap().status(),
        StatusCode::OK
    );

    let confirm = browser.get(&format!("{path}/rotate")).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm.contains("stops working at once"),
        "{}",
        confirm.body
    );
    assert!(confirm.contains(&format!("action=\"{path}/rotate\"")));
    let before = heartbeats::find(&mut web.db.conn().await, &scope, hb.id)
        .await
        .unwrap();
    assert_eq!(
        before.token, hb.token,
        "showing the confirmation changes nothing"
    );

    let done = browser.post(&format!("{path}/rotate"), &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), Some(path.as_str()));
    let page = browser.follow(&done).await;
    assert!(page.contains("The ping URL was rotated"), "{}", page.body);
    let new = ping_url(&page);
    assert_ne!(new, old);
    let rotated = heartbeats::find(&mut web.db.conn().await, &scope, hb.id)
        .await
        .unwrap();
    assert!(new.ends_with(&rotated.token));
    assert_eq!(
        http.get(&new).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert!(
        wait_until(PATIENCE, async || {
            http.get(&old).send().await.unwrap().status() == StatusCode::NOT_FOUND
        })
        .await,
        "the old URL answers 404"
    );
    let audited = web
        .db
        .conn()
        .await
        .batch_execute(&format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM audit_log WHERE action = 'heartbeat.rotate' \
             AND target = '{}') THEN RAISE EXCEPTION 'not audited'; END IF; END $$",
            hb.id
        ))
        .await;
    assert!(audited.is_ok(), "{audited:?}");

    // A post without the form's token changes nothing.
    let forged = browser.post_raw(&format!("{path}/rotate"), &[]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let after = heartbeats::find(&mut web.db.conn().await, &scope, hb.id)
        .await
        .unwrap();
    assert_eq!(after.token, rotated.token);
    ingest.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_read_but_cannot_rotate_and_other_teams_see_nothing() {
    let web = TestWeb::start().await;
    let (_, scope, hb) =
        owner_with_heartbeat(&web, "owner@example.com", "Owners", Plan::Free, 3600).await;
    let path = format!("/heartbeats/{}", hb.id);

    // A viewer of the team.
    let mut conn = web.db.conn().await;
    let viewer = users::find_or_create(
        &mut conn,
        &Email::parse("viewer@example.com").unwrap(),
        "Viewer",
    )
    .await
    .unwrap();
    accounts::set_password(
        &mut conn,
        viewer,
        &lifeline_auth::password::hash(PASSWORD).unwrap(),
    )
    .await
    .unwrap();
    users::add_membership(&mut conn, scope.team_id(), viewer, Role::Viewer)
        .await
        .unwrap();
    let mut browser = web.client();
    let login = browser.log_in("viewer@example.com", PASSWORD).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("data-ping-url"));
    assert!(!page.contains(&format!("{path}/rotate")), "no rotate link");
    assert!(!page.contains(&format!("{path}/edit")), "no edit link");
    assert!(!page.contains("data-heartbeat-actions"));
    assert_eq!(
        browser.get(&format!("{path}/rotate")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        browser.post(&format!("{path}/rotate"), &[]).await.status,
        StatusCode::FORBIDDEN
    );

    // Another team's owner.
    let mut stranger = web.client();
    stranger
        .sign_up("stranger@example.com", PASSWORD, "Strangers")
        .await;
    for p in [path.clone(), format!("{path}/rotate")] {
        let page = stranger.get(&p).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{p}");
        assert!(!page.contains(&hb.token));
    }
    assert_eq!(
        stranger.post(&format!("{path}/rotate"), &[]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        stranger.get("/heartbeats/not-an-id").await.status,
        StatusCode::NOT_FOUND
    );
    let after = heartbeats::find(&mut conn, &scope, hb.id).await.unwrap();
    assert_eq!(after.token, hb.token, "nobody rotated it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_pages_back_through_every_ping_once_in_order() {
    let web = TestWeb::start().await;
    let (mut browser, scope, hb) =
        owner_with_heartbeat(&web, "pager@example.com", "Pagers", Plan::Free, 60).await;
    insert_pings(&web, &hb, 110, "1 minute", "1 minute").await;
    // Pings sharing one timestamp, across a page boundary, are neither lost nor repeated.
    sql(
        &web,
        &format!(
            "INSERT INTO pings (received_at, heartbeat_id, team_id, kind, method, body_size) \
             SELECT date_trunc('second', now()) - interval '49 minutes 30 seconds', '{}', '{}', \
                    'start', 'GET', 0 FROM generate_series(1, 6)",
            hb.id, hb.team_id
        ),
    )
    .await;

    let mut seen: Vec<i64> = Vec::new();
    let mut next = Some(format!("/heartbeats/{}", hb.id));
    let mut pages = 0;
    while let Some(link) = next {
        let page = browser.get(&link).await;
        assert_eq!(page.status, StatusCode::OK, "{link}: {}", page.body);
        let ids = log_ids(&page);
        assert!(ids.len() <= 50);
        seen.extend(ids);
        next = older_link(&page);
        pages += 1;
        if pages > 1 {
            assert!(page.contains("data-newest"), "a way back to the newest");
        }
        assert!(pages < 10, "paging ends");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 116, "every ping once");
    let mut unique = seen.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 116, "pages are disjoint");

    // The store's pages are in (received_at, id) order, newest first.
    let mut conn = web.db.conn().await;
    let mut cursor: Option<PingCursor> = None;
    let mut all = Vec::new();
    loop {
        let (rows, more) = history::pings_page(&mut conn, &scope, hb.id, cursor, 7)
            .await
            .unwrap();
        assert!(rows.len() <= 7);
        all.extend(rows);
        match more {
            Some(c) => cursor = Some(c.to_string().parse().unwrap()),
            None => break,
        }
    }
    assert_eq!(all.len(), 116);
    assert!(
        all.windows(2)
            .all(|w| (w[0].received_at, w[0].id) > (w[1].received_at, w[1].id))
    );
    assert_eq!(
        all.iter().map(|p| p.id).collect::<Vec<_>>(),
        seen,
        "the page and the store agree"
    );
    assert_eq!(
        browser
            .get(&format!("/heartbeats/{}?before=garbage", hb.id))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_stops_at_the_plans_retention() {
    let web = TestWeb::start().await;
    let (mut browser, scope, hb) =
        owner_with_heartbeat(&web, "free@example.com", "Frugal", Plan::Free, 3600).await;
    // One ping 3 days ago (kept by the free plan's 7 days), three 10 days ago (not kept, not yet
    // purged), with an incident and a status change from back then.
    insert_pings(&web, &hb, 3, "10 days", "1 hour").await;
    insert_pings(&web, &hb, 1, "3 days", "1 hour").await;
    sql(
        &web,
        &format!(
            "INSERT INTO incidents (id, heartbeat_id, team_id, kind, reason, opened_at, resolved_at) \
             VALUES (gen_random_uuid(), '{id}', '{team}', 'down', 'ancient outage', \
                     now() - interval '9 days', now() - interval '8 days 23 hours'); \
             INSERT INTO status_changes (heartbeat_id, team_id, from_status, to_status, reason, changed_at) \
             VALUES ('{id}', '{team}', 'up', 'down', 'ancient change', now() - interval '9 days');",
            id = hb.id,
            team = hb.team_id
        ),
    )
    .await;
    let path = format!("/heartbeats/{}", hb.id);

    let page = browser.get(&format!("{path}?range=90d")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.contains("data-range-clamped"), "the page says why");
    assert_eq!(chart_attr(&page, "data-range"), "7d");
    assert_eq!(chart_attr(&page, "data-pings"), "1");
    let offered = values(&page.body, "data-range=\"");
    assert_eq!(offered[..4], ["1h", "6h", "1d", "7d"]);
    assert!(!offered.contains(&"30d".to_owned()) && !offered.contains(&"90d".to_owned()));
    assert_eq!(log_ids(&page).len(), 1, "only the kept ping is logged");
    assert!(!page.contains("ancient"), "nor old incidents or changes");

    // The store refuses to look further back whatever it is asked.
    let mut conn = web.db.conn().await;
    let (rows, _) = history::pings_page(&mut conn, &scope, hb.id, None, 500)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let now = chrono::Utc::now();
    let timeline = history::timeline(
        &mut conn,
        &scope,
        hb.id,
        history::TimelineQuery {
            from: now - chrono::Duration::days(365),
            to: now,
            raw_limit: 600,
            bucket: chrono::Duration::days(1),
            gap_after: chrono::Duration::hours(1),
        },
    )
    .await
    .unwrap();
    assert_eq!(timeline.pings, 1);
    assert!(timeline.from >= now - chrono::Duration::days(7));
    assert!(timeline.gaps.iter().all(|g| g.from >= timeline.from));
    let incidents = history::incidents_between(&mut conn, &scope, hb.id, timeline.from, now, 10)
        .await
        .unwrap();
    assert!(incidents.is_empty());

    assert_eq!(
        browser.get(&format!("{path}?range=forever")).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // On the premium plan, 90 days are offered and honoured, and the old pings show.
    billing::set_plan_by_operator(&mut conn, scope.team_id(), Plan::Premium)
        .await
        .unwrap();
    let page = browser.get(&format!("{path}?range=90d")).await;
    assert!(!page.contains("data-range-clamped"));
    assert_eq!(chart_attr(&page, "data-range"), "90d");
    assert_eq!(chart_attr(&page, "data-pings"), "4");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_range_with_many_pings_is_drawn_in_buckets() {
    let web = TestWeb::start().await;
    let (mut browser, _, hb) =
        owner_with_heartbeat(&web, "busy@example.com", "Busy", Plan::Free, 60).await;
    // 5,000 pings over the last 23 hours: far more than the chart draws one by one.
    insert_pings(&web, &hb, 5_000, "10 seconds", "16 seconds").await;
    let page = browser.get(&format!("/heartbeats/{}", hb.id)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(chart_attr(&page, "data-pings"), "5000");
    let marks = mark_kinds(&page);
    // 5-minute buckets over a day: one mark per bucket (and kind).
    assert!((200..=290).contains(&marks.len()), "{} marks", marks.len());
    assert!(marks.iter().all(|k| k == "success"));
    let counted: i64 = values(chart(&page), "data-count=\"")
        .iter()
        .map(|c| c.parse::<i64>().unwrap())
        .sum();
    assert_eq!(counted, 5_000, "every ping is counted in some bucket");
    assert!(page.contains("Pings are counted per 5 min"));
    assert!(
        page.body.len() < 400_000,
        "the page stays light: {} bytes",
        page.body.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gaps_incidents_and_our_outages_are_shaded_and_explained() {
    let web = TestWeb::start().await;
    let (mut browser, _, hb) =
        owner_with_heartbeat(&web, "gaps@example.com", "Gappy", Plan::Free, 3600).await;
    // Hourly pings, with nothing between 20 and 8 hours ago, nor between 26 hours ago (before
    // the day shown) and 22 hours ago.
    insert_pings(&web, &hb, 8, "1 minute", "1 hour").await;
    insert_pings(&web, &hb, 3, "20 hours", "1 hour").await;
    insert_pings(&web, &hb, 1, "26 hours", "1 hour").await;
    sql(
        &web,
        &format!(
            "INSERT INTO incidents (id, heartbeat_id, team_id, kind, reason, opened_at, resolved_at) \
             VALUES (gen_random_uuid(), '{id}', '{team}', 'down', 'no ping for 1 h 10 min', \
                     now() - interval '18 hours 50 minutes', now() - interval '8 hours'); \
             INSERT INTO outages (started_at, ended_at, shifted_heartbeats) \
             VALUES (now() - interval '5 hours', now() - interval '4 hours 45 minutes', 12);",
            id = hb.id,
            team = hb.team_id
        ),
    )
    .await;
    let page = browser.get(&format!("/heartbeats/{}", hb.id)).await;
    assert_eq!(page.status, StatusCode::OK);
    let svg = chart(&page);
    let bands = values(svg, "data-band=\"");
    assert_eq!(bands.iter().filter(|b| *b == "gap").count(), 2, "{bands:?}");
    // The gap running into the range starts at the plot's left edge.
    assert!(
        svg.contains("data-band=\"gap\" x=\"74.0\""),
        "the gap running into the range: {svg}"
    );
    assert!(bands.contains(&"incident".to_owned()));
    assert!(bands.contains(&"outage".to_owned()));
    assert!(svg.contains("No ping for 12 h"), "{svg}");
    assert!(
        page.contains("no ping for 1 h 10 min"),
        "the incident is listed"
    );
    assert!(page.contains("data-outages"));
    assert!(
        page.contains("moved by the outage's length"),
        "the outage is explained"
    );
    assert!(page.contains("15 min"), "its length");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flapping_spell_is_shown_while_it_lasts_and_listed_after() {
    let web = TestWeb::start().await;
    let (mut browser, _, hb) =
        owner_with_heartbeat(&web, "flap@example.com", "Flappy", Plan::Free, 3600).await;
    insert_pings(&web, &hb, 3, "1 minute", "1 minute").await;
    let spell = |resolved: &str| {
        format!(
            "INSERT INTO incidents (id, heartbeat_id, team_id, kind, reason, opened_at, resolved_at) \
             VALUES (gen_random_uuid(), '{id}', '{team}', 'flapping', \
                     '6 changes between up and down within 1 h', now() - interval '20 minutes', \
                     {resolved});",
            id = hb.id,
            team = hb.team_id
        )
    };
    sql(&web, &spell("NULL")).await;
    let page = browser.get(&format!("/heartbeats/{}", hb.id)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("data-flapping"), "the banner shows the spell");
    assert!(page.contains("6 changes between up and down within 1 h"));

    sql(
        &web,
        "UPDATE incidents SET resolved_at = now(), reason = 'stable again, now up: 9 changes'",
    )
    .await;
    let page = browser.get(&format!("/heartbeats/{}", hb.id)).await;
    assert!(!page.contains("data-flapping"), "no banner once it ended");
    assert!(
        page.contains("Flapping") && page.contains("stable again, now up: 9 changes"),
        "the ended spell is listed with its summary"
    );
}

/// The text of every detail cell of the log, newest ping first.
fn log_details(page: &Page) -> Vec<String> {
    let marker = "<td class=\"detail\">";
    page.body
        .match_indices(marker)
        .map(|(i, _)| {
            let rest = &page.body[i + marker.len()..];
            rest[..rest.find("</td>").unwrap()].to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_shows_the_output_sent_with_failures_and_exit_codes() {
    let (web, ingest, ping_base) = web_and_ingest().await;
    let (mut browser, _, hb) =
        owner_with_heartbeat(&web, "grace@example.com", "Compilers", Plan::Free, 3600).await;
    let url = format!("{ping_base}/api/v1/hb/{}", hb.token);

    post_pings(
        &url,
        &[
            ("/start", ""),
            ("/progress", "step 2 of 3"),
            ("/fail", "error: disk full\nretrying later"),
            ("/3", "rsync: connection unexpectedly closed"),
            ("/0", "backup done"),
        ],
    )
    .await;

    let page = browser.get(&format!("/heartbeats/{}", hb.id)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(
        values(&page.body, "<span class=\"ping-kind\" data-kind=\""),
        ["success", "fail", "fail", "progress", "start"]
    );
    assert_eq!(
        log_details(&page),
        [
            "backup done",
            "rsync: connection unexpectedly closed",
            "error: disk full\nretrying later",
            "step 2 of 3",
            "",
        ],
        "each ping's detail in its row, as progress detail is shown"
    );
    assert!(page.contains("Fail (exit 3)") && page.contains("Success (exit 0)"));
    ingest.stop().await.unwrap();
}

/// POSTs each `(signal, body)` to the ping URL in turn; every one must be stored (`200`).
async fn post_pings(url: &str, pings: &[(&str, &'static str)]) {
    let http = reqwest::Client::new();
    for &(signal, body) in pings {
        let answer = http
            .post(format!("{url}{signal}"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{signal}");
    }
}
