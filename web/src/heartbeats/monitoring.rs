//! `POST /heartbeats/{id}/pause` and `/resume`: turning monitoring off and on again.

use actix_web::{HttpResponse, web};
use lifeline_domain::Role;

use crate::actions;
use crate::error::PageError;
use crate::error::path_id;
use crate::form::PostedForm;
use crate::page::done;
use crate::session::Member;
use crate::state::AppState;

pub async fn pause(
    member: Member,
    state: web::Data<AppState>,
    id: web::Path<String>,
    _form: PostedForm,
) -> Result<HttpResponse, PageError> {
    member.require(Role::Member, "pause heartbeats")?;
    let id = path_id(&id)?;
    let mut conn = state.conn().await?;
    let hb = actions::heartbeats::pause(&mut conn, &member.caller(), id).await?;
    Ok(done(
        &state,
        &format!("/heartbeats/{id}"),
        &format!(
            "Paused \"{}\": no alerts until it pings again or you resume it.",
            hb.name
        ),
    ))
}

pub async fn resume(
    member: Member,
    state: web::Data<AppState>,
    id: web::Path<String>,
    _form: PostedForm,
) -> Result<HttpResponse, PageError> {
    member.require(Role::Member, "resume heartbeats")?;
    let id = path_id(&id)?;
    let mut conn = state.conn().await?;
    let hb = actions::heartbeats::resume(&state, &mut conn, &member.caller(), id).await?;
    let notice = if hb.timing.last_ping_at.is_some() {
        format!(
            "Resumed \"{}\": its next ping is due within {}.",
            hb.name,
            lifeline_domain::duration::human(hb.schedule().interval())
        )
    } else {
        format!(
            "Resumed \"{}\": it is watched from its first ping.",
            hb.name
        )
    };
    Ok(done(&state, &format!("/heartbeats/{id}"), &notice))
}
