//! `POST /heartbeats/{id}/warnings/{incident_id}/expected`: the team says an early warning of an
//! AI heartbeat was expected, so the model learns that pattern instead of warning about it
//! again (it is retrained soon).

use actix_web::{HttpResponse, web};
use lifeline_domain::{HeartbeatId, IncidentId, Role};

use crate::actions;
use crate::error::{PageError, path_id};
use crate::form::PostedForm;
use crate::page::done;
use crate::session::Member;
use crate::state::AppState;

pub async fn mark(
    member: Member,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    _form: PostedForm,
) -> Result<HttpResponse, PageError> {
    member.require(Role::Member, "mark early warnings as expected")?;
    let (heartbeat, incident) = path.into_inner();
    let heartbeat: HeartbeatId = path_id(&heartbeat)?;
    let incident: IncidentId = path_id(&incident)?;
    let mut conn = state.conn().await?;
    let marked =
        actions::heartbeats::mark_expected(&mut conn, &member.caller(), heartbeat, incident)
            .await?;
    let notice = if marked {
        "Marked as expected: the model learns this pattern at its next training, shortly."
    } else {
        "This warning was already marked as expected."
    };
    Ok(done(&state, &format!("/heartbeats/{heartbeat}#ai"), notice))
}
