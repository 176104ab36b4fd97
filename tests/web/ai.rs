//! AI heartbeats on the dashboard and in the API: the mode switch and its plan gate, going back
//! to fixed mode (by hand and when the plan loses AI heartbeats), the AI panel's learning
//! progress and learned model with the chart's expected windows, early warnings marked
//! "expected", and the list's badge and early-warning status.

use chrono::{DateTime, Duration, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use lifeline_analyzer::{learning, training};
use lifeline_cadence::{Model, Strategy};
use lifeline_domain::{Email, HeartbeatName, Plan, Role, Schedule, TimeZoneName, UserId};
use lifeline_store::ai_models;
use lifeline_store::heartbeats::{self, Heartbeat, NewHeartbeat};
use lifeline_store::{TeamScope, accounts, audit, billing, users};
use lifeline_testkit::{Page, TestWeb, WebClient};

use crate::detail::values;
use reqwest::StatusCode;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";

/// A signed-up owner of a team on `plan`, its scope and user id.
async fn owner_on(web: &TestWeb, email: &str, plan: Plan) -> (WebClient, TeamScope, UserId) {
    let mut browser = web.client();
    browser.sign_up(email, PASSWORD, "Night Shift").await;
    let mut conn = web.db.conn().await;
    let (user, _) = accounts::find_login(&mut conn, &Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap();
    let team = accounts::memberships(&mut conn, user).await.unwrap()[0].team_id;
    billing::set_plan_by_operator(&mut conn, team, plan)
        .await
        .unwrap();
    let scope = TeamScope::for_operator(&mut conn, team).await.unwrap();
    (browser, scope, user)
}

/// A member of the scope's team with `role`, signed in and looking at that team.
async fn member_as(web: &TestWeb, scope: &TeamScope, email: &str, role: Role) -> WebClient {
    let mut browser = web.client();
    browser.sign_up(email, PASSWORD, "Elsewhere").await;
    let mut conn = web.db.conn().await;
    let (user, _) = accounts::find_login(&mut conn, &Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap();
    users::add_membership(&mut conn, scope.team_id(), user, role)
        .await
        .unwrap();
    let team = scope.team_id().to_string();
    let page = browser.post("/teams/switch", &[("team_id", &team)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    browser
}

async fn heartbeat(
    web: &TestWeb,
    scope: &TeamScope,
    name: &str,
    interval: i64,
    grace: i64,
) -> Heartbeat {
    heartbeats::create(
        &mut web.db.conn().await,
        scope,
        NewHeartbeat::new(
            HeartbeatName::parse(name).unwrap(),
            Schedule::from_secs(interval, grace).unwrap(),
        ),
    )
    .await
    .unwrap()
}

async fn find(web: &TestWeb, scope: &TeamScope, hb: &Heartbeat) -> Heartbeat {
    heartbeats::find(&mut web.db.conn().await, scope, hb.id)
        .await
        .unwrap()
}

async fn sql(web: &TestWeb, sql: &str) {
    web.db.conn().await.batch_execute(sql).await.unwrap();
}

/// Stores `n` pings of `kind` going back from `newest_ago` (an SQL interval) every `step`, each
/// a little late by a few seconds that vary (a real job's jitter), and marks the heartbeat up
/// with its last ping, deadlines on its fixed schedule.
async fn insert_pings(
    web: &TestWeb,
    hb: &Heartbeat,
    n: i64,
    newest_ago: &str,
    step: &str,
    kind: &str,
) {
    sql(
        web,
        &format!(
            "INSERT INTO pings (received_at, heartbeat_id, team_id, kind, method, body_size) \
             SELECT now() - interval '{newest_ago}' - (g - 1) * interval '{step}' \
                      + ((g * 37) % 90) * interval '1 second', \
                    '{id}', '{team}', '{kind}', 'POST', 1000 + (g * 13) % 200 \
             FROM generate_series(1, {n}) g; \
             UPDATE heartbeats SET status = 'up', \
                    last_ping_at = (SELECT max(received_at) FROM pings \
                                    WHERE heartbeat_id = '{id}' AND kind IN ('success', 'fail')) \
             WHERE id = '{id}'; \
             UPDATE heartbeats SET due_at = last_ping_at + interval_secs * interval '1 second', \
                    alert_at = last_ping_at + (interval_secs + grace_secs) * interval '1 second', \
                    next_check_at = last_ping_at + interval_secs * interval '1 second' \
             WHERE id = '{id}';",
            id = hb.id,
            team = hb.team_id,
        ),
    )
    .await;
}

/// The AI columns of a heartbeat row.
#[derive(QueryableByName, Debug)]
struct AiColumns {
    #[diesel(sql_type = Text)]
    mode: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    model_due_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    ai_off_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    ai_off_reason: Option<String>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    models: i64,
}

async fn ai_columns(web: &TestWeb, hb: &Heartbeat) -> AiColumns {
    diesel::sql_query(
        "SELECT mode, model_due_at, ai_off_at, ai_off_reason, \
                (SELECT count(*) FROM ai_models m WHERE m.heartbeat_id = h.id) AS models \
         FROM heartbeats h WHERE id = $1",
    )
    .bind::<SqlUuid, _>(hb.id.as_uuid())
    .get_result(&mut web.db.conn().await)
    .await
    .unwrap()
}

/// Switches the heartbeat's mode through its page's form.
async fn switch(browser: &mut WebClient, hb: &Heartbeat, mode: &str) -> Page {
    browser.get(&format!("/heartbeats/{}", hb.id)).await;
    browser
        .post(&format!("/heartbeats/{}/mode", hb.id), &[("mode", mode)])
        .await
}

/// The audit entries with `action`, as (actor, target, detail).
async fn audited(web: &TestWeb, scope: &TeamScope, action: &str) -> Vec<(String, String, Value)> {
    audit::list(&mut web.db.conn().await, scope, None, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action)
        .map(|e| (e.actor, e.target, e.detail))
        .collect()
}

/// Trains a real model on the heartbeat's stored pings and saves it as the analyzer would,
/// recounting its deadlines with the model. The heartbeat must be in AI mode.
async fn train_and_save(web: &TestWeb, hb: &Heartbeat) -> Model {
    let mut conn = web.db.conn().await;
    let now = Utc::now();
    let (history, unusual) = training::read_window(&conn, hb.id, now).await.unwrap();
    let model = Model::train(
        &history,
        &unusual,
        TimeZoneName::UTC.tz(),
        now,
        Strategy::Combined,
    )
    .expect("hourly pings over days train a model");
    let fixed = hb.schedule();
    let learned = model.clone();
    let saved = ai_models::save_trained(
        &mut conn,
        hb.id,
        Some(training::new_model(&model).unwrap()),
        now + Duration::days(1),
        move |timing| learning::relearn(timing, Some(&learned), fixed, now, &history),
    )
    .await
    .unwrap();
    assert!(saved.is_some(), "the heartbeat is in AI mode");
    model
}

fn close_to_now(at: Option<DateTime<Utc>>) -> bool {
    at.is_some_and(|t| (Utc::now() - t).num_seconds().abs() < 60)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ai_mode_is_refused_on_standard_and_turned_on_with_premium() {
    let web = TestWeb::start().await;
    let (mut browser, scope, _) = owner_on(&web, "sam@example.com", Plan::Standard).await;
    let hb = heartbeat(&web, &scope, "nightly-backup", 3600, 600).await;
    let path = format!("/heartbeats/{}", hb.id);

    // Standard: the panel says why there is no switch, and links to the upgrade.
    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(values(&page.body, "data-ai-mode=\""), ["fixed"]);
    assert!(
        page.contains("AI heartbeats are part of Premium and Enterprise"),
        "{}",
        page.body
    );
    assert!(page.contains("href=\"/billing\" data-upgrade"));
    assert!(
        !page.contains("data-mode-switch=\"ai\""),
        "no switch to press"
    );
    // Posting the form anyway is refused, with the same reason and the link.
    let refused = switch(&mut browser, &hb, "ai").await;
    assert_eq!(refused.status, StatusCode::PAYMENT_REQUIRED);
    assert!(refused.contains("AI heartbeats are part of Premium and Enterprise"));
    assert!(refused.contains("the Standard plan does not include them"));
    assert!(refused.contains("href=\"/billing\""));
    let columns = ai_columns(&web, &hb).await;
    assert_eq!(columns.mode, "fixed");
    assert_eq!(columns.model_due_at, None);

    // Premium: the switch is there, and turns AI mode on.
    billing::set_plan_by_operator(&mut web.db.conn().await, scope.team_id(), Plan::Premium)
        .await
        .unwrap();
    let page = browser.get(&path).await;
    assert!(page.contains("data-mode-switch=\"ai\""));
    assert!(!page.contains("data-plan-gate"));
    let switched = switch(&mut browser, &hb, "ai").await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER, "{}", switched.body);
    let page = browser.follow(&switched).await;
    assert_eq!(values(&page.body, "data-ai-mode=\""), ["ai"]);
    assert!(page.contains("data-mode-switch=\"fixed\""));
    let columns = ai_columns(&web, &hb).await;
    assert_eq!(columns.mode, "ai");
    assert!(
        close_to_now(columns.model_due_at),
        "queued for the analyzer now: {columns:?}"
    );
    let entries = audited(&web, &scope, "heartbeat.mode").await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].2, json!({ "from": "fixed", "to": "ai" }));
    // A nonsense mode is a form error.
    let page = switch(&mut browser, &hb, "psychic").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// An API key of the scope's team (read-write).
async fn api_key(web: &TestWeb, scope: &TeamScope) -> String {
    let made = lifeline_auth::ApiKey::generate();
    lifeline_store::api_keys::create(
        &mut web.db.conn().await,
        scope,
        lifeline_store::api_keys::NewApiKey {
            name: "ai".to_owned(),
            prefix: made.prefix.clone(),
            hash: made.hash,
            read_only: false,
            created_by: None,
        },
    )
    .await
    .unwrap();
    made.key
}

async fn api(
    web: &TestWeb,
    key: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", web.base))
        .bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_gates_ai_mode_by_plan_with_the_upgrade_link() {
    let web = TestWeb::start().await;
    let (_, standard, _) = owner_on(&web, "sue@example.com", Plan::Standard).await;
    let key = api_key(&web, &standard).await;
    let post = reqwest::Method::POST;

    let (status, body) = api(
        &web,
        &key,
        post.clone(),
        "/api/v1/heartbeats",
        Some(json!({"name": "learned", "interval": 3600, "grace": 600, "mode": "ai"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "plan_limit");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("AI heartbeats are part of Premium and Enterprise"),
        "{message}"
    );
    let upgrade = body["error"]["upgrade_url"].as_str().unwrap();
    assert_eq!(upgrade, format!("{}/billing", web.settings.public_url));
    assert!(
        heartbeats::list(&mut web.db.conn().await, &standard)
            .await
            .unwrap()
            .is_empty(),
        "nothing was created"
    );

    // Fixed by default; PATCH to AI is refused alike, and changes nothing else either.
    let (status, created) = api(
        &web,
        &key,
        post.clone(),
        "/api/v1/heartbeats",
        Some(json!({"name": "plain", "interval": 3600, "grace": 600})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["mode"], "fixed");
    assert_eq!(created["early_warning"], Value::Null);
    let path = format!("/api/v1/heartbeats/{}", created["id"].as_str().unwrap());
    let (status, body) = api(
        &web,
        &key,
        reqwest::Method::PATCH,
        &path,
        Some(json!({"mode": "ai", "name": "renamed"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "plan_limit");
    assert!(
        body["error"]["upgrade_url"]
            .as_str()
            .unwrap()
            .ends_with("/billing")
    );
    let (_, now) = api(&web, &key, reqwest::Method::GET, &path, None).await;
    assert_eq!(
        (now["mode"].as_str(), now["name"].as_str()),
        (Some("fixed"), Some("plain"))
    );

    // Premium: created in AI mode, queued for the analyzer; PATCH switches it back.
    let (_, premium, _) = owner_on(&web, "pat@example.com", Plan::Premium).await;
    let key = api_key(&web, &premium).await;
    let (status, created) = api(
        &web,
        &key,
        post,
        "/api/v1/heartbeats",
        Some(json!({"name": "learned", "interval": 3600, "grace": 600, "mode": "ai"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["mode"], "ai");
    assert_eq!(created["early_warning"], false);
    let hb = heartbeats::list(&mut web.db.conn().await, &premium)
        .await
        .unwrap()
        .remove(0);
    assert!(close_to_now(ai_columns(&web, &hb).await.model_due_at));
    let path = format!("/api/v1/heartbeats/{}", hb.id);
    let (status, body) = api(
        &web,
        &key,
        reqwest::Method::PATCH,
        &path,
        Some(json!({"mode": "fixed"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["mode"], "fixed");
    let columns = ai_columns(&web, &hb).await;
    assert_eq!(
        (columns.mode.as_str(), columns.model_due_at),
        ("fixed", None)
    );
    let modes: Vec<Value> = audited(&web, &premium, "heartbeat.mode")
        .await
        .into_iter()
        .map(|(actor, _, detail)| {
            assert!(actor.starts_with("api_key:"), "{actor}");
            detail
        })
        .collect();
    assert_eq!(modes, [json!({"from": "ai", "to": "fixed"})]);

    // The OpenAPI description lists both fields.
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", web.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let schemas = &doc["components"]["schemas"];
    for schema in ["HeartbeatJson", "CreateHeartbeat", "EditHeartbeat"] {
        assert!(
            schemas[schema]["properties"]["mode"].is_object(),
            "{schema} has no mode: {}",
            schemas[schema]
        );
    }
    assert!(schemas["HeartbeatJson"]["properties"]["early_warning"].is_object());
    assert!(schemas["ErrorDetail"]["properties"]["upgrade_url"].is_object());
}

/// A premium team's AI heartbeat expected every 2 h (+30 min) that really pings hourly, with ten
/// days of pings and a trained model.
async fn trained_heartbeat(web: &TestWeb, email: &str) -> (WebClient, TeamScope, Heartbeat, Model) {
    let (mut browser, scope, _) = owner_on(web, email, Plan::Premium).await;
    let hb = heartbeat(web, &scope, "hourly-sync", 7200, 1800).await;
    insert_pings(web, &hb, 240, "20 minutes", "1 hour", "success").await;
    assert_eq!(
        switch(&mut browser, &hb, "ai").await.status,
        StatusCode::SEE_OTHER
    );
    let model = train_and_save(web, &hb).await;
    let hb = find(web, &scope, &hb).await;
    (browser, scope, hb, model)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trained_heartbeat_shows_what_it_learned_and_its_expected_windows() {
    let web = TestWeb::start().await;
    let (mut browser, _, hb, model) = trained_heartbeat(&web, "lea@example.com").await;
    let page = browser.get(&format!("/heartbeats/{}", hb.id)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("data-ai-learned"), "{}", page.body);
    assert!(
        !page.contains("data-ai-progress"),
        "no progress once trained"
    );
    let learned = |what: &str| {
        let marker = format!("data-learned=\"{what}\">");
        let start = page.body.find(&marker).unwrap() + marker.len();
        page.body[start..start + page.body[start..].find("</dd>").unwrap()].to_owned()
    };
    // Hourly, give or take the jitter: what the model learned, as the panel words it.
    assert!((3500.0..3700.0).contains(&model.gaps.typical_secs));
    let gap = Duration::seconds(model.gaps.typical_secs.round() as i64);
    assert_eq!(learned("gap"), lifeline_domain::duration::human(gap));
    assert!(
        learned("window").contains("after a ping"),
        "{}",
        learned("window")
    );
    assert!(
        learned("window").contains("(UTC)"),
        "in the heartbeat's zone"
    );
    assert!(
        learned("size").contains("kB"),
        "payload: {}",
        learned("size")
    );
    assert!(
        learned("run").contains("not enough runs"),
        "no start pings were sent"
    );
    assert!(learned("pings").starts_with(&format!("{} pings", model.pings_used)));
    assert!(learned("trained").contains(&model.trained_at.format("%Y-%m-%d %H:%M:%S").to_string()));
    // The chart draws the window the model expected after each success of the day.
    let bands = page.body.matches("data-expected-band").count();
    assert!((20..=25).contains(&bands), "{bands} expected windows");
    assert!(page.contains("Expected the next ping between"));
    assert!(
        page.contains("data-key=\"expected\""),
        "the legend names the band"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_to_fixed_mode_forgets_the_model_and_restores_the_fixed_deadlines() {
    let web = TestWeb::start().await;
    let (mut browser, scope, hb, _) = trained_heartbeat(&web, "fay@example.com").await;
    let last = hb.timing.last_ping_at.unwrap();
    // The model warns about an hourly job long before its fixed 2 h.
    let learned_due = hb.timing.due_at.unwrap();
    assert!(
        learned_due < last + Duration::hours(2),
        "{learned_due} vs {last}"
    );
    assert_eq!(ai_columns(&web, &hb).await.models, 1);

    let switched = switch(&mut browser, &hb, "fixed").await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER, "{}", switched.body);
    let columns = ai_columns(&web, &hb).await;
    assert_eq!(columns.mode, "fixed");
    assert_eq!(columns.model_due_at, None);
    assert_eq!(columns.models, 0, "the model is deleted");
    let hb = find(&web, &scope, &hb).await;
    assert_eq!(hb.timing.due_at, Some(last + Duration::hours(2)));
    assert_eq!(hb.timing.alert_at, Some(last + Duration::minutes(150)));
    assert_eq!(hb.next_check_at, hb.timing.due_at, "still watched");
    let page = browser.follow(&switched).await;
    assert_eq!(values(&page.body, "data-ai-mode=\""), ["fixed"]);
    assert!(!page.contains("data-ai-learned"));
    assert!(!page.contains("data-expected-band"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ai_heartbeat_without_a_model_shows_its_learning_progress() {
    let web = TestWeb::start().await;
    let (mut browser, scope, _) = owner_on(&web, "pia@example.com", Plan::Premium).await;
    let hb = heartbeat(&web, &scope, "young-job", 3600, 600).await;
    // Five days and an hour of hourly successes (121), with start pings that are not runs'
    // ends and so do not count.
    insert_pings(&web, &hb, 121, "1 hour", "1 hour", "success").await;
    insert_pings(&web, &hb, 12, "90 minutes", "1 hour", "start").await;
    assert_eq!(
        switch(&mut browser, &hb, "ai").await.status,
        StatusCode::SEE_OTHER
    );
    let page = browser.get(&format!("/heartbeats/{}", hb.id)).await;
    assert!(page.contains("data-ai-progress"), "{}", page.body);
    assert!(
        page.contains("5 of 7 days, 121 pings (at least 8 needed)"),
        "{}",
        page.body
    );
    assert!(page.contains("until then the fixed interval + grace applies"));
    assert!(!page.contains("data-ai-learned"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_downgrade_turns_ai_heartbeats_back_to_fixed_with_a_notice() {
    let web = TestWeb::start().await;
    let (mut browser, scope, hb, _) = trained_heartbeat(&web, "dan@example.com").await;
    let young = heartbeat(&web, &scope, "young-job", 600, 60).await;
    assert_eq!(
        switch(&mut browser, &young, "ai").await.status,
        StatusCode::SEE_OTHER
    );
    let plain = heartbeat(&web, &scope, "plain-job", 600, 60).await;
    let last = hb.timing.last_ping_at.unwrap();

    let mut turned_off =
        billing::set_plan_by_operator(&mut web.db.conn().await, scope.team_id(), Plan::Standard)
            .await
            .unwrap()
            .expect("premium to standard is a change")
            .ai_turned_off;
    turned_off.sort();
    let mut expected = vec![hb.id, young.id];
    expected.sort();
    assert_eq!(turned_off, expected);
    for h in [&hb, &young] {
        let columns = ai_columns(&web, h).await;
        assert_eq!(columns.mode, "fixed", "{}", h.name);
        assert_eq!(columns.model_due_at, None);
        assert_eq!(columns.models, 0);
        assert_eq!(columns.ai_off_reason.as_deref(), Some("plan_downgrade"));
        assert!(close_to_now(columns.ai_off_at));
    }
    assert_eq!(
        ai_columns(&web, &plain).await.ai_off_at,
        None,
        "it never was in AI mode"
    );
    // Monitoring goes on, on the fixed deadlines, at once.
    let hb_now = find(&web, &scope, &hb).await;
    assert_eq!(hb_now.timing.due_at, Some(last + Duration::hours(2)));
    assert_eq!(hb_now.next_check_at, hb_now.timing.due_at);
    // One audit entry per heartbeat, by the system, saying why.
    let mut entries = audited(&web, &scope, "heartbeat.mode").await;
    entries.retain(|(actor, _, _)| actor == "system");
    assert_eq!(entries.len(), 2, "{entries:?}");
    for (_, target, detail) in &entries {
        assert!(turned_off.iter().any(|id| id.to_string() == *target));
        assert_eq!(detail["reason"], "plan_downgrade");
        assert_eq!(detail["to"], "fixed");
        assert_eq!(detail["plan"], "standard");
    }

    let date = Utc::now().format("%Y-%m-%d").to_string();
    let banner = format!(
        "AI mode was turned off on {date}: the Standard plan does not include AI heartbeats."
    );
    let list = browser.get("/heartbeats").await;
    assert!(list.contains("data-ai-off"), "{}", list.body);
    assert!(list.contains(&banner), "{}", list.body);
    assert!(list.contains("href=\"/billing\" data-upgrade"));
    assert!(list.contains("young-job") && list.contains("hourly-sync"));
    let page = browser.get(&format!("/heartbeats/{}", hb.id)).await;
    assert!(page.contains(&banner), "{}", page.body);
    assert_eq!(values(&page.body, "data-ai-mode=\""), ["fixed"]);
    let page = browser.get(&format!("/heartbeats/{}", plain.id)).await;
    assert!(!page.contains("data-ai-off"));

    // Back on Premium, switching it on again ends the notice.
    billing::set_plan_by_operator(&mut web.db.conn().await, scope.team_id(), Plan::Premium)
        .await
        .unwrap();
    assert_eq!(
        switch(&mut browser, &hb, "ai").await.status,
        StatusCode::SEE_OTHER
    );
    let page = browser.get(&format!("/heartbeats/{}", hb.id)).await;
    assert!(!page.contains("data-ai-off"));
    assert_eq!(ai_columns(&web, &hb).await.ai_off_at, None);
}

/// An open early warning of the heartbeat, as the scheduler opens them.
async fn early_warning(web: &TestWeb, hb: &Heartbeat, reason: &str) -> uuid::Uuid {
    let id = uuid::Uuid::new_v4();
    diesel::sql_query(
        "INSERT INTO incidents (id, heartbeat_id, team_id, kind, reason, opened_at) \
         VALUES ($1, $2, $3, 'early_warning', $4, now() - interval '5 minutes')",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(hb.id.as_uuid())
    .bind::<SqlUuid, _>(hb.team_id.as_uuid())
    .bind::<Text, _>(reason)
    .execute(&mut web.db.conn().await)
    .await
    .unwrap();
    id
}

#[derive(QueryableByName, Debug)]
struct Marked {
    #[diesel(sql_type = Nullable<Timestamptz>)]
    marked_expected_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    marked_expected_by: Option<uuid::Uuid>,
}

async fn marked(web: &TestWeb, incident: uuid::Uuid) -> Marked {
    diesel::sql_query("SELECT marked_expected_at, marked_expected_by FROM incidents WHERE id = $1")
        .bind::<SqlUuid, _>(incident)
        .get_result(&mut web.db.conn().await)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_early_warning_marked_expected_is_learned_soon() {
    let web = TestWeb::start().await;
    let (mut owner, scope, owner_id) = owner_on(&web, "eve@example.com", Plan::Premium).await;
    let hb = heartbeat(&web, &scope, "report", 3600, 600).await;
    assert_eq!(
        switch(&mut owner, &hb, "ai").await.status,
        StatusCode::SEE_OTHER
    );
    let other = heartbeat(&web, &scope, "other", 3600, 600).await;
    let warning = early_warning(
        &web,
        &hb,
        "no ping for 1 h 20 min; usually within 1 h 5 min",
    )
    .await;
    let elsewhere = early_warning(&web, &other, "not this one").await;
    // The analyzer's next look was far away.
    sql(
        &web,
        &format!(
            "UPDATE heartbeats SET model_due_at = now() + interval '1 day' WHERE id = '{}'",
            hb.id
        ),
    )
    .await;
    let path = format!("/heartbeats/{}", hb.id);
    let expected = format!("/heartbeats/{}/warnings/{warning}/expected", hb.id);

    let page = owner.get(&path).await;
    assert_eq!(values(&page.body, "data-warning=\""), [warning.to_string()]);
    assert!(page.contains("no ping for 1 h 20 min"));
    assert!(page.contains(&format!("action=\"{expected}\"")));

    // A viewer sees the warning but may not give feedback.
    let mut viewer = member_as(&web, &scope, "vic@example.com", Role::Viewer).await;
    let page = viewer.get(&path).await;
    assert!(page.contains(&format!("data-warning=\"{warning}\"")));
    assert!(!page.contains("data-expected"), "no button for viewers");
    assert_eq!(
        viewer.post(&expected, &[]).await.status,
        StatusCode::FORBIDDEN
    );
    // Without the form's CSRF token nothing happens either.
    owner.get(&path).await;
    assert_eq!(
        owner.post_raw(&expected, &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(marked(&web, warning).await.marked_expected_at, None);
    // Another heartbeat's warning is not this heartbeat's.
    let crossed = format!("/heartbeats/{}/warnings/{elsewhere}/expected", hb.id);
    assert_eq!(
        owner.post(&crossed, &[]).await.status,
        StatusCode::NOT_FOUND
    );

    // A member marks it.
    let mut member = member_as(&web, &scope, "meg@example.com", Role::Member).await;
    member.get(&path).await;
    let done = member.post(&expected, &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let row = marked(&web, warning).await;
    assert!(close_to_now(row.marked_expected_at));
    let meg = accounts::find_login(
        &mut web.db.conn().await,
        &Email::parse("meg@example.com").unwrap(),
    )
    .await
    .unwrap()
    .unwrap()
    .0;
    assert_eq!(row.marked_expected_by, Some(meg.as_uuid()));
    assert_ne!(meg, owner_id);
    assert!(
        close_to_now(ai_columns(&web, &hb).await.model_due_at),
        "retrained soon"
    );
    assert_eq!(marked(&web, elsewhere).await.marked_expected_at, None);
    let page = member.follow(&done).await;
    assert!(
        page.contains("Marked expected by meg@example.com"),
        "{}",
        page.body
    );
    assert!(
        !page.contains(&format!("action=\"{expected}\"")),
        "no second button"
    );
    let entries = audited(&web, &scope, "heartbeat.warning_expected").await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].1, hb.id.to_string());
    assert_eq!(entries[0].2["incident"], warning.to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_marks_ai_heartbeats_and_their_early_warning() {
    let web = TestWeb::start().await;
    let (mut browser, scope, _) = owner_on(&web, "lou@example.com", Plan::Premium).await;
    let ai = heartbeat(&web, &scope, "a-learned-job", 3600, 600).await;
    let fixed = heartbeat(&web, &scope, "b-fixed-job", 3600, 600).await;
    assert_eq!(
        switch(&mut browser, &ai, "ai").await.status,
        StatusCode::SEE_OTHER
    );
    sql(
        &web,
        &format!(
            "UPDATE heartbeats SET status = 'late', last_ping_at = now() - interval '2 hours', \
             due_at = now() - interval '1 hour', alert_at = now() + interval '1 hour' \
             WHERE id IN ('{}', '{}')",
            ai.id, fixed.id
        ),
    )
    .await;
    let list = browser.get("/heartbeats").await;
    let row = |id: &str| {
        let start = list
            .body
            .find(&format!("<tr data-heartbeat-id=\"{id}\""))
            .unwrap();
        list.body[start..start + list.body[start..].find("</tr>").unwrap()].to_owned()
    };
    let ai_row = row(&ai.id.to_string());
    assert!(ai_row.contains("data-mode=\"ai\""), "{ai_row}");
    assert!(ai_row.contains("data-ai-badge"));
    assert!(
        ai_row.contains("data-status=\"early_warning\">Early warning<"),
        "{ai_row}"
    );
    let fixed_row = row(&fixed.id.to_string());
    assert!(fixed_row.contains("data-mode=\"fixed\""));
    assert!(!fixed_row.contains("data-ai-badge"));
    assert!(
        fixed_row.contains("data-status=\"late\">Late<"),
        "{fixed_row}"
    );
    // Its own filter, with its own count.
    let count = |key: &str| {
        let marker = format!("data-filter=\"{key}\">");
        let start = list
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no {key} filter"));
        let rest = &list.body[start..];
        let n = rest.find("data-count>").unwrap() + "data-count>".len();
        rest[n..n + rest[n..].find('<').unwrap()].to_owned()
    };
    assert_eq!(
        (count("early_warning"), count("late")),
        ("1".to_owned(), "1".to_owned())
    );
    let filtered = browser.get("/heartbeats?status=early_warning").await;
    assert!(filtered.contains("a-learned-job") && !filtered.contains("b-fixed-job"));
    // The live poll speaks the same words.
    let statuses: Value =
        serde_json::from_str(&browser.get("/heartbeats/statuses").await.body).unwrap();
    let polled: Vec<(String, String)> = statuses["heartbeats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["id"].as_str().unwrap().to_owned(),
                h["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(polled.contains(&(ai.id.to_string(), "early_warning".to_owned())));
    assert!(polled.contains(&(fixed.id.to_string(), "late".to_owned())));
    // The API keeps the stored status and says whether it is the early warning.
    let key = api_key(&web, &scope).await;
    let (_, ai_json) = api(
        &web,
        &key,
        reqwest::Method::GET,
        &format!("/api/v1/heartbeats/{}", ai.id),
        None,
    )
    .await;
    assert_eq!(
        (
            ai_json["status"].as_str(),
            ai_json["early_warning"].as_bool()
        ),
        (Some("late"), Some(true))
    );
    let (_, fixed_json) = api(
        &web,
        &key,
        reqwest::Method::GET,
        &format!("/api/v1/heartbeats/{}", fixed.id),
        None,
    )
    .await;
    assert_eq!(fixed_json["status"], "late");
    assert_eq!(fixed_json["early_warning"], Value::Null);
}
