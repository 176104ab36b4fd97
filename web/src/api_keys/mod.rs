//! `/api-keys`: the team's keys for the management API. Everyone in the team sees the list;
//! admins and owners create keys (the new key is shown once, on the page that answers the form,
//! never stored in clear nor put in a redirect) and revoke them.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;
use lifeline_domain::Role;
use lifeline_store::api_keys::{self, ApiKeyEntry};

use crate::actions;
use crate::error::{PageError, path_id};
use crate::form::PostedForm;
use crate::heartbeats::view::{ago, iso};
use crate::page::{Nav, done, render_status};
use crate::routes::Routes;
use crate::session::Member;
use crate::state::AppState;

pub fn routes(r: &mut Routes<'_>) {
    r.get("/api-keys", page)
        .post("/api-keys", create)
        .post("/api-keys/{id}/revoke", revoke);
}

const MANAGE: &str = "manage API keys";

/// One key as the list shows it.
struct KeyRow {
    id: String,
    name: String,
    prefix: String,
    read_only: bool,
    created: String,
    created_at: String,
    created_by: String,
    last_used: String,
    last_used_at: String,
    revoked: Option<String>,
    revoked_at: String,
}

impl KeyRow {
    fn of(k: &ApiKeyEntry, now: chrono::DateTime<Utc>) -> Self {
        KeyRow {
            id: k.id.to_string(),
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            read_only: k.read_only,
            created: ago(Some(k.created_at), now),
            created_at: iso(Some(k.created_at)),
            created_by: k
                .created_by
                .clone()
                .unwrap_or_else(|| "operator".to_owned()),
            last_used: ago(k.last_used_at, now),
            last_used_at: iso(k.last_used_at),
            revoked: k.revoked_at.map(|t| ago(Some(t), now)),
            revoked_at: iso(k.revoked_at),
        }
    }
}

/// The key just created, shown this once.
struct NewKey {
    id: String,
    name: String,
    key: String,
    read_only: bool,
}

#[derive(Template)]
#[template(path = "api_keys.html")]
struct KeysPage {
    nav: Nav,
    keys: Vec<KeyRow>,
    created: Option<NewKey>,
    /// Why the form was refused, with what was typed.
    error: Option<String>,
    name: String,
    read_only: bool,
    /// `https://…/api/v1`, for the example.
    api_base: String,
}

impl KeysPage {
    fn has_active(&self) -> bool {
        self.keys.iter().any(|k| k.revoked.is_none())
    }
}

async fn show(
    state: &AppState,
    member: &Member,
    status: StatusCode,
    created: Option<NewKey>,
    error: Option<String>,
    (name, read_only): (String, bool),
) -> Result<HttpResponse, PageError> {
    let mut conn = state.conn().await?;
    let now = Utc::now();
    let keys = api_keys::list(&mut conn, &member.scope)
        .await?
        .iter()
        .map(|k| KeyRow::of(k, now))
        .collect();
    render_status(
        &KeysPage {
            nav: Nav::member(member, "keys"),
            keys,
            created,
            error,
            name,
            read_only,
            api_base: format!("{}/api/v1", state.settings.public_url),
        },
        status,
    )
}

pub async fn page(member: Member, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    show(
        &state,
        &member,
        StatusCode::OK,
        None,
        None,
        (String::new(), false),
    )
    .await
}

/// Creates a key and answers with the page showing it once (no redirect: the key must not
/// travel in a URL or a cookie).
pub async fn create(
    member: Member,
    state: web::Data<AppState>,
    form: PostedForm,
) -> Result<HttpResponse, PageError> {
    member.require(Role::Admin, MANAGE)?;
    let name = form.text("name").to_owned();
    let read_only = form.has("read_only");
    let mut conn = state.conn().await?;
    match actions::api_keys::create(&mut conn, &member.caller(), &name, read_only).await {
        Ok(made) => {
            let created = NewKey {
                id: made.id.to_string(),
                name: api_keys::valid_name(&name)?,
                key: made.key,
                read_only,
            };
            drop(conn);
            show(
                &state,
                &member,
                StatusCode::CREATED,
                Some(created),
                None,
                (String::new(), false),
            )
            .await
        }
        Err(lifeline_store::StoreError::Invalid(message)) => {
            drop(conn);
            show(
                &state,
                &member,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(message),
                (name, read_only),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn revoke(
    member: Member,
    state: web::Data<AppState>,
    path: web::Path<String>,
    _form: PostedForm,
) -> Result<HttpResponse, PageError> {
    member.require(Role::Admin, MANAGE)?;
    let id: uuid::Uuid = path_id(&path)?;
    let mut conn = state.conn().await?;
    let key = actions::api_keys::revoke(&mut conn, &member.caller(), id).await?;
    Ok(done(
        &state,
        "/api-keys",
        &format!(
            "API key “{}” revoked: scripts using it now get 401",
            key.name
        ),
    ))
}
