//! `POST /heartbeats/{id}/mode` (`mode` = `ai` or `fixed`): the AI mode panel's switch. AI mode
//! is part of Premium and Enterprise: on other plans the switch is refused with the upgrade link
//! (402, as every plan limit on a page).

use actix_web::{HttpResponse, web};
use lifeline_domain::duration::human;
use lifeline_domain::{HeartbeatId, HeartbeatMode, Role};
use lifeline_store::heartbeats;

use crate::actions;
use crate::error::{PageError, path_id};
use crate::form::PostedForm;
use crate::page::done;
use crate::session::Member;
use crate::state::AppState;

pub async fn switch(
    member: Member,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: PostedForm,
) -> Result<HttpResponse, PageError> {
    member.require(Role::Member, "switch a heartbeat's mode")?;
    let id: HeartbeatId = path_id(&id)?;
    let mut conn = state.conn().await?;
    // Another team's heartbeat is not found, whatever the form says.
    heartbeats::find(&mut conn, &member.scope, id).await?;
    let to: HeartbeatMode = form
        .text("mode")
        .parse()
        .map_err(|e: lifeline_domain::UnknownValue| PageError::Invalid(e.to_string()))?;
    let switched =
        actions::heartbeats::switch_mode(&state, &mut conn, &member.caller(), id, to).await?;
    let hb = &switched.heartbeat;
    let notice = match (to, switched.changed) {
        (HeartbeatMode::Ai, true) => format!(
            "AI mode is on for \"{}\": it learns from its history once it has 7 days and 8 \
             runs of it, and keeps its fixed interval + grace until then.",
            hb.name
        ),
        (HeartbeatMode::Fixed, true) => format!(
            "AI mode is off for \"{}\": it is expected every {} (+{} grace) again.",
            hb.name,
            human(hb.schedule().interval()),
            human(hb.schedule().grace())
        ),
        (_, false) => format!("\"{}\" is already in {} mode.", hb.name, to),
    };
    Ok(done(&state, &format!("/heartbeats/{id}#ai"), &notice))
}
