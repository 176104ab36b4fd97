//! The management API as scripts use it: team API keys, heartbeat CRUD, history, channels,
//! error shapes and statuses, the rate limit, the OpenAPI description, and the dashboard page
//! that makes and revokes keys.

use std::collections::HashSet;

use diesel_async::RunQueryDsl;
use lifeline_domain::{HeartbeatName, Plan, Role, Schedule, TeamName};
use lifeline_store::api_keys::{self, NewApiKey};
use lifeline_store::heartbeats::{self, Heartbeat, NewHeartbeat};
use lifeline_store::{TeamScope, audit, teams};
use lifeline_testkit::{TestWeb, WebClient};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A script's HTTP client: one key, JSON in and out.
struct Script {
    http: reqwest::Client,
    base: String,
    key: Option<String>,
}

/// What a call answered.
struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    /// Asserts the error shape and returns its code.
    fn error_code(&self) -> &str {
        let code = self.body["error"]["code"].as_str();
        assert!(
            code.is_some()
                && self.body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
            "not an API error: {} {}",
            self.status,
            self.body
        );
        code.unwrap_or_default()
    }

    fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }
}

impl Script {
    fn new(web: &TestWeb, key: Option<&str>) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: web.base.clone(),
            key: key.map(str::to_owned),
        }
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(key) = &self.key {
            request = request.bearer_auth(key);
        }
        request
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {text}"))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request).await
    }

    async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn patch(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PATCH, path, Some(body)).await
    }
}

async fn team(web: &TestWeb, plan: Plan) -> TeamScope {
    let mut conn = web.db.conn().await;
    let team = teams::create(&mut conn, &TeamName::parse("Scripted").unwrap(), plan)
        .await
        .unwrap();
    TeamScope::for_operator(&mut conn, team.id).await.unwrap()
}

/// A new key of the team, as `ApiKey::generate` makes them: (id, key).
async fn key(web: &TestWeb, scope: &TeamScope, read_only: bool) -> (uuid::Uuid, String) {
    let made = lifeline_auth::ApiKey::generate();
    let mut conn = web.db.conn().await;
    let id = api_keys::create(
        &mut conn,
        scope,
        NewApiKey {
            name: "test script".into(),
            prefix: made.prefix,
            hash: made.hash,
            read_only,
            created_by: None,
        },
    )
    .await
    .unwrap();
    (id, made.key)
}

async fn heartbeat(web: &TestWeb, scope: &TeamScope, name: &str) -> Heartbeat {
    let mut conn = web.db.conn().await;
    heartbeats::create(
        &mut conn,
        scope,
        NewHeartbeat::new(
            HeartbeatName::parse(name).unwrap(),
            Schedule::from_secs(3600, 300).unwrap(),
        ),
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_write_key_manages_heartbeats_from_creation_to_deletion() {
    let web = TestWeb::start().await;
    let scope = team(&web, Plan::Premium).await;
    let (key_id, key) = key(&web, &scope, false).await;
    let api = Script::new(&web, Some(&key));

    let created = api
        .post(
            "/api/v1/heartbeats",
            json!({"name": "nightly backup", "interval": 86400, "grace": 1800}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let hb = &created.body;
    let id = hb["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.headers["location"].to_str().unwrap(),
        format!("/api/v1/heartbeats/{id}")
    );
    assert_eq!(hb["name"], "nightly backup");
    assert_eq!(hb["description"], "");
    assert_eq!(hb["status"], "new");
    assert_eq!(hb["interval"], 86400);
    assert_eq!(hb["grace"], 1800);
    assert_eq!(hb["max_runtime"], Value::Null);
    assert_eq!(hb["last_ping_at"], Value::Null);
    assert_eq!(hb["due_at"], Value::Null);
    assert_eq!(hb["channels"], json!([]));
    let ping_url = hb["ping_url"].as_str().unwrap().to_owned();
    assert!(
        ping_url.starts_with("http://ping.invalid/api/v1/hb/"),
        "{ping_url}"
    );
    assert!(hb["created_at"].is_string());

    let got = api.get(&format!("/api/v1/heartbeats/{id}")).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(&got.body, hb);

    // Editing: a subset of fields, the others keep their value; null removes a limit.
    let path = format!("/api/v1/heartbeats/{id}");
    let edited = api
        .patch(
            &path,
            json!({"name": "nightly backup (eu)", "description": "pg_dump of the EU cluster", "interval": 43200, "max_runtime": 600}),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    assert_eq!(edited.body["name"], "nightly backup (eu)");
    assert_eq!(edited.body["description"], "pg_dump of the EU cluster");
    assert_eq!(edited.body["interval"], 43200);
    assert_eq!(edited.body["grace"], 1800, "not given, kept");
    assert_eq!(edited.body["max_runtime"], 600);
    let cleared = api.patch(&path, json!({"max_runtime": null})).await;
    assert_eq!(cleared.body["max_runtime"], Value::Null);
    assert_eq!(cleared.body["interval"], 43200);

    let paused = api.post(&format!("{path}/pause"), json!({})).await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
    assert_eq!(paused.body["status"], "paused");
    let resumed = api.post(&format!("{path}/resume"), json!({})).await;
    assert_eq!(resumed.body["status"], "new", "never pinged, so new again");
    let rotated = api.post(&format!("{path}/rotate"), json!({})).await;
    assert_eq!(rotated.status, StatusCode::OK);
    assert_ne!(rotated.body["ping_url"], ping_url.as_str());
    assert_eq!(rotated.body["id"], id.as_str());

    let incidents = api.get(&format!("{path}/incidents")).await;
    assert_eq!(incidents.status, StatusCode::OK);
    assert_eq!(incidents.body, json!({"incidents": []}));

    let deleted = api.call(Method::DELETE, &path, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(deleted.body, Value::Null, "no body");
    let gone = api.get(&path).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.error_code(), "not_found");
    let again = api.call(Method::DELETE, &path, None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    // Every change is audited with the key as its actor.
    let mut conn = web.db.conn().await;
    let entries = audit::list(&mut conn, &scope, None, 50).await.unwrap();
    let actions: Vec<&str> = entries.iter().rev().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "heartbeat.create",
            "heartbeat.edit",
            "heartbeat.edit",
            "heartbeat.pause",
            "heartbeat.resume",
            "heartbeat.rotate",
            "heartbeat.delete"
        ]
    );
    assert!(
        entries
            .iter()
            .all(|e| e.actor == format!("api_key:{key_id}"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_pages_through_every_heartbeat_by_name_with_a_cursor() {
    let web = TestWeb::start().await;
    let scope = team(&web, Plan::Premium).await;
    let (_, key) = key(&web, &scope, true).await;
    let api = Script::new(&web, Some(&key));
    // Two share a name: the id breaks the tie, and neither is skipped nor repeated.
    for name in [
        "echo", "alpha", "delta", "bravo", "bravo", "charlie", "foxtrot",
    ] {
        heartbeat(&web, &scope, name).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/heartbeats?limit=3&cursor={c}"),
            None => "/api/v1/heartbeats?limit=3".to_owned(),
        };
        let page = api.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let list = page.body["heartbeats"].as_array().unwrap();
        assert!(list.len() <= 3);
        seen.extend(list.iter().map(|hb| {
            (
                hb["name"].as_str().unwrap().to_owned(),
                hb["id"].as_str().unwrap().to_owned(),
            )
        }));
        pages += 1;
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => {
                assert_eq!(page.body["next_cursor"], Value::Null);
                break;
            }
        }
    }
    assert_eq!(pages, 3);
    let names: Vec<&str> = seen.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "alpha", "bravo", "bravo", "charlie", "delta", "echo", "foxtrot"
        ]
    );
    let ids: HashSet<&String> = seen.iter().map(|(_, id)| id).collect();
    assert_eq!(ids.len(), 7, "no heartbeat twice");

    let all = api.get("/api/v1/heartbeats").await;
    assert_eq!(
        all.body["heartbeats"].as_array().unwrap().len(),
        7,
        "default limit 100"
    );
    assert_eq!(all.body["next_cursor"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_key_reads_everything_and_changes_nothing() {
    let web = TestWeb::start().await;
    let scope = team(&web, Plan::Free).await;
    let hb = heartbeat(&web, &scope, "reports").await;
    let (_, key) = key(&web, &scope, true).await;
    let api = Script::new(&web, Some(&key));
    let path = format!("/api/v1/heartbeats/{}", hb.id);

    for read in [
        "/api/v1/heartbeats".to_owned(),
        path.clone(),
        format!("{path}/pings"),
        format!("{path}/incidents"),
        "/api/v1/channels".to_owned(),
    ] {
        let answer = api.get(&read).await;
        assert_eq!(answer.status, StatusCode::OK, "{read}: {}", answer.body);
    }
    let changes = [
        (
            Method::POST,
            "/api/v1/heartbeats".to_owned(),
            json!({"name": "x", "interval": 60, "grace": 0}),
        ),
        (Method::PATCH, path.clone(), json!({"name": "renamed"})),
        (Method::DELETE, path.clone(), Value::Null),
        (Method::POST, format!("{path}/pause"), json!({})),
        (Method::POST, format!("{path}/resume"), json!({})),
        (Method::POST, format!("{path}/rotate"), json!({})),
        (
            Method::POST,
            "/api/v1/channels".to_owned(),
            json!({"kind": "email", "target": "ops@example.com"}),
        ),
    ];
    for (method, target, body) in changes {
        let body = (!body.is_null()).then_some(body);
        let answer = api.call(method.clone(), &target, body).await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{method} {target}: {}",
            answer.body
        );
        assert_eq!(answer.error_code(), "forbidden");
        assert!(answer.message().contains("viewer"), "{}", answer.message());
    }
    let after = api.get(&path).await;
    assert_eq!(after.body["name"], "reports");
    assert_eq!(after.body["status"], "new");
    assert_eq!(
        after.body["ping_url"],
        hb.ping_url("http://ping.invalid").as_str()
    );
    let mut conn = web.db.conn().await;
    assert!(
        audit::list(&mut conn, &scope, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_without_a_valid_key_get_401() {
    let web = TestWeb::start().await;
    let scope = team(&web, Plan::Free).await;
    let (revoked_id, revoked) = key(&web, &scope, false).await;
    let mut conn = web.db.conn().await;
    api_keys::revoke(&mut conn, &scope, revoked_id)
        .await
        .unwrap();
    let unknown = lifeline_auth::ApiKey::generate().key;

    let anonymous = Script::new(&web, None);
    let answer = anonymous.get("/api/v1/heartbeats").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.error_code(), "unauthorized");
    let basic = anonymous
        .send(
            anonymous
                .request(Method::GET, "/api/v1/heartbeats")
                .basic_auth("me", Some("pw")),
        )
        .await;
    assert_eq!(basic.status, StatusCode::UNAUTHORIZED);
    assert_eq!(basic.error_code(), "unauthorized");
    for key in ["nope", "ll_short", unknown.as_str(), revoked.as_str()] {
        let answer = Script::new(&web, Some(key))
            .post(
                "/api/v1/heartbeats",
                json!({"name": "x", "interval": 60, "grace": 0}),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "{key}: {}",
            answer.body
        );
        assert_eq!(answer.error_code(), "unauthorized");
    }
    assert!(
        Script::new(&web, Some(&revoked))
            .get("/api/v1/channels")
            .await
            .message()
            .contains("revoked")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_teams_heartbeat_is_not_found() {
    let web = TestWeb::start().await;
    let theirs = team(&web, Plan::Free).await;
    let hb = heartbeat(&web, &theirs, "their job").await;
    let ours = team(&web, Plan::Free).await;
    let (_, key) = key(&web, &ours, false).await;
    let api = Script::new(&web, Some(&key));
    let path = format!("/api/v1/heartbeats/{}", hb.id);
    let attempts = [
        (Method::GET, path.clone(), None),
        (
            Method::PATCH,
            path.clone(),
            Some(json!({"name": "mine now"})),
        ),
        (Method::DELETE, path.clone(), None),
        (Method::POST, format!("{path}/pause"), None),
        (Method::POST, format!("{path}/rotate"), None),
        (Method::GET, format!("{path}/pings"), None),
        (Method::GET, format!("{path}/incidents"), None),
        (
            Method::GET,
            "/api/v1/heartbeats/not-a-uuid".to_owned(),
            None,
        ),
        (Method::GET, "/api/v1/nothing-here".to_owned(), None),
    ];
    for (method, target, body) in attempts {
        let answer = api.call(method.clone(), &target, body).await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{method} {target}: {}",
            answer.body
        );
        assert_eq!(answer.error_code(), "not_found");
    }
    let list = api.get("/api/v1/heartbeats").await;
    assert_eq!(list.body["heartbeats"], json!([]));
    // Their heartbeat is untouched.
    let mut conn = web.db.conn().await;
    let still = heartbeats::find(&mut conn, &theirs, hb.id).await.unwrap();
    assert_eq!(still.name, "their job");
    assert_eq!(still.token, hb.token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_400_and_values_out_of_range_422() {
    let web = TestWeb::start().await;
    let scope = team(&web, Plan::Free).await;
    let hb = heartbeat(&web, &scope, "job").await;
    let (_, key) = key(&web, &scope, false).await;
    let api = Script::new(&web, Some(&key));

    let raw = |body: &'static str| {
        api.request(Method::POST, "/api/v1/heartbeats")
            .header("content-type", "application/json")
            .body(body)
    };
    let broken = api.send(raw("{\"name\": ")).await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert_eq!(broken.error_code(), "bad_request");
    let wrong_type = api
        .post(
            "/api/v1/heartbeats",
            json!({"name": "x", "interval": "an hour", "grace": 0}),
        )
        .await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);
    assert!(
        wrong_type.message().contains("invalid type"),
        "{}",
        wrong_type.message()
    );
    let unknown_field = api
        .post(
            "/api/v1/heartbeats",
            json!({"name": "x", "interval": 60, "grace": 0, "intervall": 5}),
        )
        .await;
    assert_eq!(unknown_field.status, StatusCode::BAD_REQUEST);
    assert!(unknown_field.message().contains("intervall"));
    let missing = api.post("/api/v1/heartbeats", json!({"name": "x"})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(
        missing.message().contains("missing field"),
        "{}",
        missing.message()
    );
    let not_json = api
        .send(
            api.request(Method::POST, "/api/v1/heartbeats")
                .body("name=x"),
        )
        .await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    assert!(
        not_json.message().contains("Content-Type"),
        "{}",
        not_json.message()
    );

    for (body, message) in [
        (
            json!({"name": "x", "interval": 0, "grace": 0}),
            "interval must be between",
        ),
        (
            json!({"name": "x", "interval": 60, "grace": -1}),
            "grace must be between",
        ),
        (json!({"name": "  ", "interval": 60, "grace": 0}), "name"),
        (
            json!({"name": "x", "interval": 60, "grace": 0, "max_runtime": 0}),
            "maximum run time",
        ),
        (
            json!({"name": "x", "interval": 60, "grace": 0, "channels": [uuid::Uuid::now_v7()]}),
            "not a channel of this team",
        ),
        (
            json!({"name": "x", "interval": 60, "grace": 0, "description": "d".repeat(2_001)}),
            "description: at most 2000 characters",
        ),
    ] {
        let answer = api.post("/api/v1/heartbeats", body.clone()).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            answer.body
        );
        assert_eq!(answer.error_code(), "invalid");
        assert!(
            answer.message().contains(message),
            "{body}: {}",
            answer.message()
        );
    }
    let path = format!("/api/v1/heartbeats/{}", hb.id);
    let bad_patch = api.patch(&path, json!({"interval": 0})).await;
    assert_eq!(bad_patch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_patch.message().contains("interval must be between"));
    let long_description = api
        .patch(&path, json!({"description": "d".repeat(2_001)}))
        .await;
    assert_eq!(long_description.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        long_description
            .message()
            .contains("description: at most 2000 characters")
    );
    assert_eq!(
        api.get(&path).await.body["interval"],
        3600,
        "nothing changed"
    );

    for (query, status) in [
        ("limit=0", StatusCode::UNPROCESSABLE_ENTITY),
        ("limit=501", StatusCode::UNPROCESSABLE_ENTITY),
        ("limit=ten", StatusCode::BAD_REQUEST),
        ("cursor=garbage", StatusCode::BAD_REQUEST),
    ] {
        for list in ["/api/v1/heartbeats".to_owned(), format!("{path}/pings")] {
            let answer = api.get(&format!("{list}?{query}")).await;
            assert_eq!(answer.status, status, "{list}?{query}: {}", answer.body);
            answer.error_code();
        }
    }
    assert_eq!(
        api.get("/api/v1/heartbeats?limit=500").await.status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plans_heartbeat_limit_is_a_403_plan_limit() {
    let web = TestWeb::start().await;
    let scope = team(&web, Plan::Free).await;
    let max = Plan::Free.limits().max_heartbeats.unwrap();
    for i in 0..max {
        heartbeat(&web, &scope, &format!("job {i}")).await;
    }
    let (_, key) = key(&web, &scope, false).await;
    let answer = Script::new(&web, Some(&key))
        .post(
            "/api/v1/heartbeats",
            json!({"name": "one more", "interval": 60, "grace": 0}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.error_code(), "plan_limit");
    assert!(answer.message().contains("upgrade"), "{}", answer.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_past_its_rate_limit_gets_429_with_retry_after() {
    let web = TestWeb::start_with(
        |mut s| {
            s.api_rate_limit = 5;
            s
        },
        None,
    )
    .await;
    let scope = team(&web, Plan::Free).await;
    let (_, busy) = key(&web, &scope, true).await;
    let (_, other) = key(&web, &scope, true).await;
    // The limit counts per clock minute: start the burst well inside one.
    let second = chrono::Utc::now().timestamp().rem_euclid(60);
    if second >= 50 {
        tokio::time::sleep(std::time::Duration::from_secs((61 - second) as u64)).await;
    }
    let api = Script::new(&web, Some(&busy));
    for call in 1..=5 {
        let answer = api.get("/api/v1/heartbeats").await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "call {call}: {}",
            answer.body
        );
    }
    let limited = api.get("/api/v1/heartbeats").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.error_code(), "rate_limited");
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let another = Script::new(&web, Some(&other))
        .get("/api/v1/heartbeats")
        .await;
    assert_eq!(another.status, StatusCode::OK, "each key has its own count");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_are_listed_newest_first_a_page_at_a_time_within_retention() {
    let web = TestWeb::start().await;
    let scope = team(&web, Plan::Free).await;
    let hb = heartbeat(&web, &scope, "job").await;
    let (_, key) = key(&web, &scope, true).await;
    let mut conn = web.db.conn().await;
    // Seven visible pings (two at the same instant: the id orders them), and one older than
    // the free plan's seven days.
    let ages = [
        "1 minute",
        "2 minutes",
        "2 minutes",
        "3 minutes",
        "1 hour",
        "1 day",
        "6 days",
        "8 days",
    ];
    for (i, age) in ages.iter().enumerate() {
        let at = "date_trunc('second', now())";
        diesel::sql_query(format!(
            "INSERT INTO pings (received_at, heartbeat_id, team_id, kind, method, body_size) \
             VALUES ({at} - interval '{age}', '{}', '{}', 'success', 'POST', {i})",
            hb.id,
            scope.team_id()
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    }
    let api = Script::new(&web, Some(&key));
    let path = format!("/api/v1/heartbeats/{}/pings", hb.id);
    let mut seen: Vec<Value> = Vec::new();
    let mut next = format!("{path}?limit=3");
    let mut pages = 0;
    loop {
        let page = api.get(&next).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        seen.extend(page.body["pings"].as_array().unwrap().iter().cloned());
        pages += 1;
        match page.body["next_cursor"].as_str() {
            Some(cursor) => next = format!("{path}?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let sizes: Vec<i64> = seen
        .iter()
        .map(|p| p["body_size"].as_i64().unwrap())
        .collect();
    assert_eq!(
        sizes,
        [0, 2, 1, 3, 4, 5, 6],
        "newest first, the id breaking the tie, the 8-day-old one hidden"
    );
    assert_eq!(seen[0]["kind"], "success");
    assert_eq!(seen[0]["method"], "POST");
    let times: Vec<&str> = seen
        .iter()
        .map(|p| p["received_at"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");

    let default = api.get(&path).await;
    assert_eq!(
        default.body["pings"].as_array().unwrap().len(),
        7,
        "default limit 50"
    );
    assert_eq!(default.body["next_cursor"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_are_listed_and_created_with_a_webhook_secret_shown_once() {
    let web = TestWeb::start().await;
    let scope = team(&web, Plan::Free).await;
    let (_, key) = key(&web, &scope, false).await;
    let api = Script::new(&web, Some(&key));
    assert_eq!(
        api.get("/api/v1/channels").await.body,
        json!({"channels": []})
    );

    let hook = api
        .post(
            "/api/v1/channels",
            json!({"kind": "webhook", "target": "https://hooks.example.com/lifeline", "name": "pager"}),
        )
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.body);
    assert_eq!(hook.body["kind"], "webhook");
    assert_eq!(hook.body["name"], "pager");
    assert!(hook.body["secret"].as_str().unwrap().starts_with("whsec_"));
    let mail = api
        .post(
            "/api/v1/channels",
            json!({"kind": "email", "target": "ops@example.com"}),
        )
        .await;
    assert_eq!(mail.status, StatusCode::CREATED);
    assert_eq!(
        mail.body["name"], "ops@example.com",
        "the name defaults to the target"
    );
    assert_eq!(mail.body["secret"], Value::Null);

    let listed = api.get("/api/v1/channels").await;
    let channels = listed.body["channels"].as_array().unwrap();
    assert_eq!(channels.len(), 2);
    assert!(
        channels.iter().all(|c| c.get("secret").is_none()),
        "{}",
        listed.body
    );
    assert!(!listed.body.to_string().contains("whsec_"));

    let bad = api
        .post(
            "/api/v1/channels",
            json!({"kind": "email", "target": "not an address"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.error_code(), "invalid");
    let bad_kind = api
        .post(
            "/api/v1/channels",
            json!({"kind": "sms", "target": "+15550100"}),
        )
        .await;
    assert_eq!(bad_kind.status, StatusCode::BAD_REQUEST);
    assert!(
        bad_kind.message().contains("unknown variant"),
        "{}",
        bad_kind.message()
    );

    // Channels go to heartbeats by id, and are replaced as a whole.
    let hook_id = hook.body["id"].as_str().unwrap();
    let created = api
        .post(
            "/api/v1/heartbeats",
            json!({"name": "job", "interval": 60, "grace": 0, "channels": [hook_id]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["channels"], json!([hook_id]));
    let listed = api.get("/api/v1/heartbeats").await;
    assert_eq!(listed.body["heartbeats"][0]["channels"], json!([hook_id]));
    let path = format!(
        "/api/v1/heartbeats/{}",
        created.body["id"].as_str().unwrap()
    );
    let detached = api.patch(&path, json!({"channels": []})).await;
    assert_eq!(detached.body["channels"], json!([]));

    let mut conn = web.db.conn().await;
    let actions: Vec<String> = audit::list(&mut conn, &scope, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions.iter().filter(|a| *a == "channel.create").count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_every_api_route() {
    let web = TestWeb::start().await;
    let answer = Script::new(&web, None).get("/api/v1/openapi.json").await;
    assert_eq!(answer.status, StatusCode::OK, "no key needed");
    assert!(
        answer.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let doc = answer.body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    let routes: Vec<_> = lifeline_web::routes::table()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/v1/"))
        .collect();
    assert!(routes.len() >= 13);
    for route in routes {
        let method = route.method.as_str().to_lowercase();
        let operation = &doc["paths"][route.path][&method];
        assert!(
            operation.is_object(),
            "{method} {} is not described",
            route.path
        );
        if route.path != "/api/v1/openapi.json" {
            assert_eq!(
                operation["security"],
                json!([{"bearer": []}]),
                "{method} {}",
                route.path
            );
        }
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(doc["components"]["schemas"]["HeartbeatJson"]["properties"]["ping_url"].is_object());
    for schema in ["HeartbeatJson", "CreateHeartbeat", "EditHeartbeat"] {
        let field = &doc["components"]["schemas"][schema]["properties"]["time_zone"];
        assert!(field.is_object(), "{schema} lists time_zone: {doc}");
        assert!(
            field["description"]
                .as_str()
                .unwrap_or_default()
                .contains("IANA"),
            "{schema}: {field}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heartbeats_time_zone_is_set_read_and_cleared_through_the_api() {
    let web = TestWeb::start().await;
    let scope = team(&web, Plan::Premium).await;
    let (_, key) = key(&web, &scope, false).await;
    let api = Script::new(&web, Some(&key));
    const UNKNOWN: &str =
        r#"unknown time zone "Europe/Pariss": use an IANA name such as Europe/Paris"#;

    let created = api
        .post(
            "/api/v1/heartbeats",
            json!({"name": "payroll", "interval": 86400, "grace": 3600, "time_zone": "Europe/Paris"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["time_zone"], "Europe/Paris");
    let path = format!(
        "/api/v1/heartbeats/{}",
        created.body["id"].as_str().unwrap()
    );
    assert_eq!(api.get(&path).await.body["time_zone"], "Europe/Paris");
    let plain = api
        .post(
            "/api/v1/heartbeats",
            json!({"name": "cleanup", "interval": 3600, "grace": 60}),
        )
        .await;
    assert_eq!(plain.status, StatusCode::CREATED);
    assert_eq!(plain.body["time_zone"], Value::Null, "the team's zone");
    let listed = api.get("/api/v1/heartbeats").await;
    let zones: Vec<&Value> = listed.body["heartbeats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hb| &hb["time_zone"])
        .collect();
    assert_eq!(zones, [&Value::Null, &json!("Europe/Paris")], "by name");

    // An unknown zone is a value out of range, as a bad interval is: 422 `invalid`.
    let refused = api
        .post(
            "/api/v1/heartbeats",
            json!({"name": "x", "interval": 60, "grace": 0, "time_zone": "Europe/Pariss"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.error_code(), "invalid");
    assert_eq!(refused.message(), UNKNOWN);
    let refused = api
        .patch(&path, json!({"time_zone": "Europe/Pariss"}))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.error_code(), "invalid");
    assert_eq!(refused.message(), UNKNOWN);
    let wrong_type = api.patch(&path, json!({"time_zone": 2})).await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong_type.error_code(), "bad_request");
    assert_eq!(api.get(&path).await.body["time_zone"], "Europe/Paris");
    assert_eq!(
        api.get("/api/v1/heartbeats").await.body["heartbeats"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "nothing was created"
    );

    // Changed, kept when absent, and cleared with null (back to the team's zone).
    let changed = api
        .patch(&path, json!({"time_zone": "America/New_York"}))
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["time_zone"], "America/New_York");
    let renamed = api.patch(&path, json!({"name": "payroll (us)"})).await;
    assert_eq!(renamed.body["time_zone"], "America/New_York");
    let cleared = api.patch(&path, json!({"time_zone": null})).await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.body);
    assert_eq!(cleared.body["time_zone"], Value::Null);
    assert_eq!(api.get(&path).await.body["time_zone"], Value::Null);
    let id = path.rsplit('/').next().unwrap().parse().unwrap();
    assert_eq!(
        heartbeats::effective_time_zone(&mut web.db.conn().await, &scope, id)
            .await
            .unwrap()
            .as_str(),
        "UTC"
    );

    let entries = audit::list(&mut web.db.conn().await, &scope, None, 10)
        .await
        .unwrap();
    assert_eq!(entries[0].detail["time_zone"], Value::Null);
    assert_eq!(entries[2].detail["time_zone"], "America/New_York");
}

/// The new key on the page that answered the create form.
fn shown_key(page: &lifeline_testkit::Page) -> String {
    let start = page.body.find("data-api-key>").expect("the key is shown") + "data-api-key>".len();
    let end = page.body[start..].find('<').unwrap();
    page.body[start..start + end].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_create_and_revoke_keys_on_the_dashboard() {
    let web = TestWeb::start().await;
    let mut owner = web.client();
    owner
        .sign_up("ada@example.com", "correct horse battery", "Analytical")
        .await;
    let empty = owner.get("/api-keys").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.contains("No API keys yet"), "{}", empty.body);
    assert!(empty.contains("data-create-api-key"));

    let refused = owner.post("/api-keys", &[("name", "  ")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("give the key a name"), "{}", refused.body);

    let created = owner
        .post(
            "/api-keys",
            &[("name", "deploy script"), ("read_only", "1")],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(created.contains("Copy this key now"));
    assert!(
        created.headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store")
    );
    let key = shown_key(&created);
    assert!(key.starts_with("ll_") && key.len() == 43, "{key}");

    // The key works, read-only.
    let api = Script::new(&web, Some(&key));
    assert_eq!(api.get("/api/v1/heartbeats").await.status, StatusCode::OK);
    let write = api
        .post(
            "/api/v1/heartbeats",
            json!({"name": "x", "interval": 60, "grace": 0}),
        )
        .await;
    assert_eq!(write.status, StatusCode::FORBIDDEN);

    // Listed by name and prefix, never in full again.
    let list = owner.get("/api-keys").await;
    assert!(!list.contains(&key), "the key is shown only once");
    assert!(list.contains("deploy script"));
    assert!(list.contains(&format!("{}…", &key[..10])));
    assert!(list.contains("read-only"));
    assert!(list.contains("ada@example.com"), "its creator");

    let mut conn = web.db.conn().await;
    let team = teams::find_by_name(&mut conn, "Analytical")
        .await
        .unwrap()
        .unwrap();
    let scope = TeamScope::for_operator(&mut conn, team.id).await.unwrap();
    let stored = api_keys::list(&mut conn, &scope).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].last_used_at.is_some(), "the calls marked it used");
    let id = stored[0].id;
    assert!(list.contains(&format!("action=\"/api-keys/{id}/revoke\"")));

    let revoked = owner.post(&format!("/api-keys/{id}/revoke"), &[]).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.body);
    let after = owner.follow(&revoked).await;
    assert!(after.contains("revoked"), "{}", after.body);
    assert!(after.contains("data-revoked"));
    assert_eq!(
        api.get("/api/v1/heartbeats").await.status,
        StatusCode::UNAUTHORIZED
    );

    let actions: Vec<(String, String)> = audit::list(&mut conn, &scope, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.target))
        .collect();
    assert!(
        actions.contains(&("api_key.create".into(), id.to_string())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("api_key.revoke".into(), id.to_string())),
        "{actions:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_and_viewers_see_the_keys_but_cannot_create_or_revoke() {
    let web = TestWeb::start().await;
    let mut owner = web.client();
    owner
        .sign_up("ada@example.com", "correct horse battery", "Analytical")
        .await;
    owner.get("/api-keys").await;
    let created = owner.post("/api-keys", &[("name", "ci")]).await;
    assert_eq!(created.status, StatusCode::CREATED);

    let mut conn = web.db.conn().await;
    let team = teams::find_by_name(&mut conn, "Analytical")
        .await
        .unwrap()
        .unwrap();
    let scope = TeamScope::for_operator(&mut conn, team.id).await.unwrap();
    let key_id = api_keys::list(&mut conn, &scope).await.unwrap()[0].id;

    for (email, role) in [
        ("bob@example.com", Role::Member),
        ("cy@example.com", Role::Viewer),
    ] {
        let mut other: WebClient = web.client();
        other
            .sign_up(email, "correct horse battery", &format!("{email}'s"))
            .await;
        let user = lifeline_store::users::find_or_create(
            &mut conn,
            &lifeline_domain::Email::parse(email).unwrap(),
            "",
        )
        .await
        .unwrap();
        lifeline_store::users::add_membership(&mut conn, team.id, user, role)
            .await
            .unwrap();
        other.get("/heartbeats").await;
        let switched = other
            .post("/teams/switch", &[("team_id", &team.id.to_string())])
            .await;
        assert_eq!(switched.status, StatusCode::SEE_OTHER);

        let page = other.get("/api-keys").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.contains("ci"), "{role:?} sees the list");
        assert!(
            !page.contains("data-create-api-key"),
            "{role:?} gets no form"
        );
        assert!(
            !page.contains("/revoke\""),
            "{role:?} gets no revoke button"
        );
        let create = other.post("/api-keys", &[("name", "mine")]).await;
        assert_eq!(create.status, StatusCode::FORBIDDEN, "{role:?}");
        let revoke = other.post(&format!("/api-keys/{key_id}/revoke"), &[]).await;
        assert_eq!(revoke.status, StatusCode::FORBIDDEN, "{role:?}");
    }
    let keys = api_keys::list(&mut conn, &scope).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert!(keys[0].revoked_at.is_none());
}
