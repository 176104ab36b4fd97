use actix_web::{HttpResponse, web};
use lifeline_domain::TeamId;
use lifeline_store::TeamScope;

use crate::error::{PageError, path_id};
use crate::form::PostedForm;
use crate::session::SignedIn;
use crate::state::AppState;

/// Makes another of the user's teams the current one. Only a membership makes a team reachable:
/// the cookie only says which of them to show.
pub async fn submit(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: PostedForm,
) -> Result<HttpResponse, PageError> {
    let team: TeamId = path_id(form.text("team_id"))?;
    let mut conn = state.conn().await?;
    TeamScope::for_member(&mut conn, signed_in.user.id, team).await?;
    let mut res = crate::page::done(&state, "/heartbeats", "Switched team.");
    res.add_cookie(&crate::cookies::build(
        &state,
        crate::cookies::TEAM,
        team.to_string(),
    ))
    .map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(res)
}
