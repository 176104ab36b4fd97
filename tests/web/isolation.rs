//! Isolation by construction, checked over every route the server has: the list comes from
//! `lifeline_web::routes::table()`, the same declaration the server is built from, so a new route
//! is walked without editing this test. A member of team A aims every route at team B's objects
//! and must get `404`, never data; a viewer of A, and a read-only API key of A, aim every route
//! that changes state at A's own objects and must get `403`.

use diesel::sql_types::{Bool, Bytea, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use lifeline_domain::{ChannelKind, Email, HeartbeatName, Role, Schedule};
use lifeline_store::channels::{self, NewChannel};
use lifeline_store::heartbeats::{self, NewHeartbeat};
use lifeline_store::{TeamScope, accounts, users};
use lifeline_testkit::{TestWeb, WebClient};
use reqwest::{Method, StatusCode};
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery";

/// One team's objects, by the path parameter that names them.
struct Objects {
    heartbeat: String,
    heartbeat_name: String,
    channel: String,
    channel_target: String,
    api_key_id: String,
    /// A read-write and a read-only key of the team.
    key: String,
    read_only_key: String,
    member: String,
    invitation: String,
    /// An early warning of the heartbeat (AI heartbeats' incidents that can be marked expected).
    warning: String,
}

async fn team_with_objects(web: &TestWeb, owner: &str, label: &str) -> (WebClient, Objects) {
    let mut browser = web.client();
    browser
        .sign_up(owner, PASSWORD, &format!("Team {label}"))
        .await;
    let mut conn = web.db.conn().await;
    let (user, _) = accounts::find_login(&mut conn, &Email::parse(owner).unwrap())
        .await
        .unwrap()
        .unwrap();
    let team = accounts::memberships(&mut conn, user).await.unwrap()[0].team_id;
    let scope = TeamScope::for_member(&mut conn, user, team).await.unwrap();
    let heartbeat_name = format!("secret-job-of-{label}");
    let hb = heartbeats::create(
        &mut conn,
        &scope,
        NewHeartbeat::new(
            HeartbeatName::parse(&heartbeat_name).unwrap(),
            Schedule::from_secs(3600, 60).unwrap(),
        ),
    )
    .await
    .unwrap();
    let channel_target = format!("https://hooks.example.com/{label}-private-hook");
    let channel = channels::create(
        &mut conn,
        &scope,
        NewChannel {
            kind: ChannelKind::Webhook,
            name: format!("hook of {label}"),
            target: channel_target.clone(),
            secret: Some("whsec_isolation".to_owned()),
            confirm_token_hash: None,
        },
    )
    .await
    .unwrap();
    let member = users::find_or_create(
        &mut conn,
        &Email::parse(&format!("member-of-{label}@example.com")).unwrap(),
        "",
    )
    .await
    .unwrap();
    users::add_membership(&mut conn, team, member, Role::Member)
        .await
        .unwrap();
    let mut keys = Vec::new();
    for read_only in [false, true] {
        let key = lifeline_auth::ApiKey::generate();
        let id = Uuid::new_v4();
        diesel::sql_query(
            "INSERT INTO api_keys (id, team_id, name, prefix, key_hash, read_only) \
             VALUES ($1, $2, 'isolation', $3, $4, $5)",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<SqlUuid, _>(team.as_uuid())
        .bind::<Text, _>(&key.prefix)
        .bind::<Bytea, _>(key.hash.to_vec())
        .bind::<Bool, _>(read_only)
        .execute(&mut conn)
        .await
        .unwrap();
        keys.push((id, key.key));
    }
    let invitation = Uuid::new_v4();
    diesel::sql_query(
        "INSERT INTO invitations (id, team_id, email, role, token_hash, expires_at) \
         VALUES ($1, $2, $3, 'member', $4, now() + interval '1 day')",
    )
    .bind::<SqlUuid, _>(invitation)
    .bind::<SqlUuid, _>(team.as_uuid())
    .bind::<Text, _>(format!("invited-to-{label}@example.com"))
    .bind::<Bytea, _>(lifeline_auth::secret::digest(&lifeline_auth::secret::token()).to_vec())
    .execute(&mut conn)
    .await
    .unwrap();
    let warning = Uuid::new_v4();
    diesel::sql_query(
        "INSERT INTO incidents (id, heartbeat_id, team_id, kind, reason, opened_at) \
         VALUES ($1, $2, $3, 'early_warning', 'strays from its learned cadence', now())",
    )
    .bind::<SqlUuid, _>(warning)
    .bind::<SqlUuid, _>(hb.id.as_uuid())
    .bind::<SqlUuid, _>(team.as_uuid())
    .execute(&mut conn)
    .await
    .unwrap();
    let objects = Objects {
        heartbeat: hb.id.to_string(),
        heartbeat_name,
        channel: channel.id.to_string(),
        channel_target,
        api_key_id: keys[0].0.to_string(),
        key: keys[0].1.clone(),
        read_only_key: keys[1].1.clone(),
        member: member.to_string(),
        invitation: invitation.to_string(),
        warning: warning.to_string(),
    };
    (browser, objects)
}

/// The path with its parameters naming `objects`. A parameter this test does not know fails it:
/// a new kind of object must be taught here once.
fn aimed(path: &str, objects: &Objects) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').map(|e| start + e).unwrap();
        out.push_str(&rest[..start]);
        let name = &rest[start + 1..end];
        let before = &path[..path.len() - rest.len() + start];
        let value = match name {
            "id" if before.ends_with("/heartbeats/") => objects.heartbeat.clone(),
            "id" if before.ends_with("/channels/") => objects.channel.clone(),
            "id" if before.ends_with("/api-keys/") => objects.api_key_id.clone(),
            "id" if before.ends_with("/invitations/") => objects.invitation.clone(),
            "user_id" | "id" if before.ends_with("/members/") => objects.member.clone(),
            "incident_id" if before.ends_with("/warnings/") => objects.warning.clone(),
            // Links sent by email carry their own credential; a guessed one finds nothing.
            "token" => lifeline_auth::secret::token(),
            other => panic!("teach the isolation test what `{{{other}}}` in {path} names"),
        };
        out.push_str(&value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/v1/")
}

/// Sends `method path` as the browser (forms carry its CSRF token) or with `key`.
async fn call(
    browser: &mut WebClient,
    key: &str,
    method: &Method,
    path: &str,
) -> (StatusCode, String) {
    if is_api(path) {
        let response = browser
            .http
            .request(method.clone(), format!("{}{path}", browser.base))
            .bearer_auth(key)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        let status = response.status();
        return (status, response.text().await.unwrap_or_default());
    }
    let page = if *method == Method::GET {
        browser.get(path).await
    } else {
        browser.get("/heartbeats").await;
        browser.post(path, &[]).await
    };
    (page.status, page.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_route_shows_or_changes_another_teams_objects() {
    let web = TestWeb::start().await;
    let (mut a, a_objects) = team_with_objects(&web, "alice@example.com", "a").await;
    let (_b, b) = team_with_objects(&web, "bob@example.com", "b").await;
    let routes = lifeline_web::routes::table();
    assert!(routes.len() > 20, "the route table was read: {routes:?}");

    let mut leaks = Vec::new();
    for route in &routes {
        let method = Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
        if route.path.contains('{') {
            let path = aimed(route.path, &b);
            let (status, body) = call(&mut a, &a_objects.key, &method, &path).await;
            if status != StatusCode::NOT_FOUND {
                leaks.push(format!(
                    "{method} {path}: {status} {}",
                    &body[..body.len().min(200)]
                ));
            }
        } else if method == Method::GET {
            let (_, body) = call(&mut a, &a_objects.key, &method, route.path).await;
            for secret in [
                &b.heartbeat_name,
                &b.heartbeat,
                &b.channel_target,
                &b.member,
            ] {
                if body.contains(secret.as_str()) {
                    leaks.push(format!("GET {}: shows team B's {secret}", route.path));
                }
            }
        }
    }
    // A form field naming another team's object is refused as well.
    a.get("/heartbeats").await;
    let b_team = {
        let mut conn = web.db.conn().await;
        let (user, _) = accounts::find_login(&mut conn, &Email::parse("bob@example.com").unwrap())
            .await
            .unwrap()
            .unwrap();
        accounts::memberships(&mut conn, user).await.unwrap()[0].team_id
    };
    let page = a
        .post("/teams/switch", &[("team_id", &b_team.to_string())])
        .await;
    if page.status != StatusCode::NOT_FOUND {
        leaks.push(format!("POST /teams/switch to team B: {}", page.status));
    }
    assert!(
        leaks.is_empty(),
        "team A reached team B:\n{}",
        leaks.join("\n")
    );
}

/// Form targets any signed-in person may post whatever their role: their own session, account
/// and membership, and links that carry their own credential.
const ANY_ROLE_MAY_POST: &[&str] = &[
    "/signup",
    "/login",
    "/logout",
    "/teams/switch",
    "/teams/new",
    "/team/leave",
    "/account/password",
    "/password-reset",
    "/password-reset/{token}",
    "/invitations/{token}",
    "/channels/confirm/{token}",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_and_read_only_keys_cannot_change_anything() {
    let web = TestWeb::start().await;
    let (_owner, a) = team_with_objects(&web, "olga@example.com", "a").await;
    // A viewer of team A.
    let mut viewer = web.client();
    viewer
        .sign_up("vera@example.com", PASSWORD, "Vera's own")
        .await;
    {
        let mut conn = web.db.conn().await;
        let find = async |conn: &mut _, email: &str| {
            accounts::find_login(conn, &Email::parse(email).unwrap())
                .await
                .unwrap()
                .unwrap()
                .0
        };
        let owner = find(&mut conn, "olga@example.com").await;
        let vera = find(&mut conn, "vera@example.com").await;
        let team = accounts::memberships(&mut conn, owner).await.unwrap()[0].team_id;
        users::add_membership(&mut conn, team, vera, Role::Viewer)
            .await
            .unwrap();
        let page = viewer
            .post("/teams/switch", &[("team_id", &team.to_string())])
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
    }
    let mut refused = Vec::new();
    for route in lifeline_web::routes::table() {
        let method = Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
        if method == Method::GET || ANY_ROLE_MAY_POST.contains(&route.path) {
            continue;
        }
        let path = aimed(route.path, &a);
        let (status, body) = call(&mut viewer, &a.read_only_key, &method, &path).await;
        if status != StatusCode::FORBIDDEN {
            let who = if is_api(&path) {
                "read-only key"
            } else {
                "viewer"
            };
            refused.push(format!(
                "{who}: {method} {path}: {status} {}",
                &body[..body.len().min(200)]
            ));
        }
    }
    assert!(
        refused.is_empty(),
        "changes not refused with 403:\n{}",
        refused.join("\n")
    );
}
