//! AI mode as teams use it: switching a heartbeat between its fixed interval + grace and AI mode
//! (Premium and Enterprise only), the fall-back to fixed mode when a team's plan loses AI
//! heartbeats, and what the dashboard shows of an AI heartbeat — how far it is from being able
//! to learn, its early warnings with the team's "expected" feedback, and the notice left when
//! Lifeline rather than a person turned AI mode off. The models themselves are `ai_models`.
//!
//! Turning AI mode on only queues the heartbeat for the analyzer (`model_due_at = now()`): until
//! a model exists the fixed deadlines keep applying. Turning it off counts the current period's
//! deadlines again on the fixed schedule (the domain's `decide_relearn`, written through
//! `decisions::write` like every timing change), so monitoring never has a gap.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, RunQueryDsl};
use lifeline_domain::{
    Cadence, HeartbeatId, HeartbeatMode, IncidentId, IncidentKind, Plan, TeamId, UserId,
};
use serde_json::json;

use crate::audit::{Actor, record_for_team};
use crate::decisions::{self, Decided, DecidedBy, Transitions, committed};
use crate::heartbeats::{self, Heartbeat, NewHeartbeat};
use crate::label::stored;
use crate::schema::{ai_models, heartbeats as hb, incidents, pings, teams, users};
use crate::timing_rows::TimingRow;
use crate::{PgConn, StoreError, TeamScope};

/// Why turning AI mode on is refused on Free and Standard (the start of the message).
pub const AI_PLANS_ONLY: &str = "AI heartbeats are part of Premium and Enterprise";

/// The refusal to turn AI mode on under `plan`.
pub fn refused_on(plan: Plan) -> StoreError {
    StoreError::PlanLimit(format!(
        "{AI_PLANS_ONLY}: the {} plan does not include them",
        capitalized(plan.as_str())
    ))
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Why Lifeline, not a person, turned a heartbeat's AI mode off (`heartbeats.ai_off_reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AiOffReason {
    /// Its team moved to a plan without AI heartbeats.
    PlanDowngrade,
}

impl AiOffReason {
    pub fn as_str(self) -> &'static str {
        match self {
            AiOffReason::PlanDowngrade => "plan_downgrade",
        }
    }

    fn stored(word: &str) -> Result<Self, StoreError> {
        match word {
            "plan_downgrade" => Ok(AiOffReason::PlanDowngrade),
            other => Err(StoreError::Invalid(format!(
                "in storage: unknown AI-off reason {other:?}: expected plan_downgrade"
            ))),
        }
    }
}

/// What a switch did.
#[derive(Clone, Debug)]
pub struct Switched {
    pub heartbeat: Heartbeat,
    pub from: HeartbeatMode,
    /// False when the heartbeat already was in the mode asked for.
    pub changed: bool,
    /// Its deadlines moved earlier: the scheduler should look now.
    pub wake_scheduler: bool,
}

/// Switches a heartbeat of the scope's team to `to`. AI mode needs a plan with AI heartbeats
/// (`PlanLimit` otherwise), read under a share lock on the team row: a plan change, which turns
/// the team's AI heartbeats back to fixed mode, either waits for this switch or is seen by it.
/// Any switch by a person clears the notice left when Lifeline turned AI mode off.
pub async fn switch_mode(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: HeartbeatId,
    to: HeartbeatMode,
) -> Result<Switched, StoreError> {
    let scope = scope.clone();
    conn.transaction::<_, StoreError, _>(async move |conn| switch_in(conn, &scope, id, to).await)
        .await
        .map(committed)
}

/// [`switch_mode`] inside the caller's transaction; its status changes are for the caller to
/// count once that commits.
async fn switch_in(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: HeartbeatId,
    to: HeartbeatMode,
) -> Result<(Switched, Transitions), StoreError> {
    let team = scope.team_id().as_uuid();
    let plan: String = teams::table
        .find(team)
        .select(teams::plan)
        .for_share()
        .first(conn)
        .await?;
    let plan: Plan = stored(&plan)?;
    let (row, mode): (TimingRow, String) = hb::table
        .filter(hb::team_id.eq(team))
        .filter(hb::id.eq(id.as_uuid()))
        .select((TimingRow::as_select(), hb::mode))
        .for_no_key_update()
        .first(conn)
        .await?;
    if to == HeartbeatMode::Ai && !plan.limits().ai_heartbeats {
        return Err(refused_on(plan));
    }
    let from: HeartbeatMode = stored(&mode)?;
    let changed = from != to;
    let mut wake_scheduler = false;
    let mut transitions = Transitions::default();
    if changed {
        match to {
            HeartbeatMode::Ai => turn_on(conn, id).await?,
            HeartbeatMode::Fixed => {
                (wake_scheduler, transitions) =
                    back_to_fixed(conn, &[row], None, Utc::now()).await?;
            }
        }
    }
    diesel::update(hb::table.find(id.as_uuid()))
        .set((
            hb::ai_off_at.eq(None::<DateTime<Utc>>),
            hb::ai_off_reason.eq(None::<&str>),
        ))
        .execute(conn)
        .await?;
    let heartbeat = heartbeats::find(conn, scope, id).await?;
    Ok((
        Switched {
            heartbeat,
            from,
            changed,
            wake_scheduler,
        },
        transitions,
    ))
}

/// Creates a heartbeat directly in `mode`: both or neither (AI mode refused by the plan creates
/// nothing).
pub async fn create_in_mode(
    conn: &mut PgConn,
    scope: &TeamScope,
    new: NewHeartbeat,
    mode: HeartbeatMode,
) -> Result<Heartbeat, StoreError> {
    let scope = scope.clone();
    conn.transaction::<_, StoreError, _>(async move |conn| {
        let created = heartbeats::create(conn, &scope, new).await?;
        match mode {
            HeartbeatMode::Fixed => Ok((created, Transitions::default())),
            HeartbeatMode::Ai => {
                let (switched, transitions) = switch_in(conn, &scope, created.id, mode).await?;
                Ok((switched.heartbeat, transitions))
            }
        }
    })
    .await
    .map(committed)
}

/// AI mode on: the analyzer looks at the heartbeat soon. Deadlines stay as they are, on the
/// fixed schedule, until it has a model.
async fn turn_on(conn: &mut PgConn, id: HeartbeatId) -> Result<(), StoreError> {
    diesel::update(hb::table.find(id.as_uuid()))
        .set((
            hb::mode.eq(HeartbeatMode::Ai.as_str()),
            hb::model_due_at.eq(diesel::dsl::now),
            hb::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Puts locked heartbeats back on their fixed interval + grace: the current period's deadlines
/// counted again on the fixed schedule (the one decision writer also clears the learned
/// columns and closes an open early warning quietly: fixed mode has none), no model, nothing for
/// the analyzer. `notice` records why when Lifeline did it.
/// Returns whether some deadline moved earlier, and the status changes to count once the
/// caller's transaction has committed.
async fn back_to_fixed(
    conn: &mut PgConn,
    rows: &[TimingRow],
    notice: Option<AiOffReason>,
    now: DateTime<Utc>,
) -> Result<(bool, Transitions), StoreError> {
    if rows.is_empty() {
        return Ok((false, Transitions::default()));
    }
    let mut decided = Vec::with_capacity(rows.len());
    for row in rows {
        let timing = row.timing()?;
        let fixed = Cadence::Fixed(timing.cadence.fixed());
        decided.push(Decided {
            heartbeat: row.heartbeat(),
            address: None,
            team: row.team(),
            zone: row.zone().to_owned(),
            decision: timing.decide_relearn(fixed, now),
        });
    }
    let wake = decided.iter().any(|d| d.decision.wake_scheduler);
    let transitions = decisions::write(conn, &decided, DecidedBy::Operator)
        .await?
        .transitions;
    let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.heartbeat().as_uuid()).collect();
    diesel::update(hb::table.filter(hb::id.eq_any(&ids)))
        .set((
            hb::mode.eq(HeartbeatMode::Fixed.as_str()),
            hb::model_due_at.eq(None::<DateTime<Utc>>),
            hb::ai_off_at.eq(notice.map(|_| now)),
            hb::ai_off_reason.eq(notice.map(AiOffReason::as_str)),
            hb::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    diesel::delete(ai_models::table.filter(ai_models::heartbeat_id.eq_any(&ids)))
        .execute(conn)
        .await?;
    Ok((wake, transitions))
}

/// After `team`'s plan changed to `plan`, inside the caller's transaction: when the plan has no
/// AI heartbeats, every AI heartbeat of the team goes back to fixed mode at once, with a notice
/// on the heartbeat and an audit entry each (actor `system`). Returns those heartbeats, and
/// the status changes to count once the caller's transaction has committed.
pub(crate) async fn follow_plan(
    conn: &mut PgConn,
    team: TeamId,
    plan: Plan,
) -> Result<(Vec<HeartbeatId>, Transitions), StoreError> {
    if plan.limits().ai_heartbeats {
        return Ok((Vec::new(), Transitions::default()));
    }
    let rows: Vec<TimingRow> = hb::table
        .filter(hb::team_id.eq(team.as_uuid()))
        .filter(hb::mode.eq(HeartbeatMode::Ai.as_str()))
        // Id order, as every path that locks several heartbeats: no deadlock between them.
        .order(hb::id)
        .select(TimingRow::as_select())
        .for_no_key_update()
        .load(conn)
        .await?;
    let reason = AiOffReason::PlanDowngrade;
    let (_, transitions) = back_to_fixed(conn, &rows, Some(reason), Utc::now()).await?;
    let ids: Vec<HeartbeatId> = rows.iter().map(TimingRow::heartbeat).collect();
    for id in &ids {
        record_for_team(
            conn,
            team,
            Actor::System,
            "heartbeat.mode",
            &id.to_string(),
            json!({ "from": "ai", "to": "fixed", "reason": reason.as_str(), "plan": plan }),
        )
        .await?;
    }
    Ok((ids, transitions))
}

/// The notice shown while a heartbeat is in fixed mode because Lifeline turned AI mode off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AiOffNotice {
    pub heartbeat: HeartbeatId,
    pub name: String,
    pub at: DateTime<Utc>,
    pub reason: AiOffReason,
}

type NoticeRow = (uuid::Uuid, String, Option<DateTime<Utc>>, Option<String>);

fn notice_of((id, name, at, reason): NoticeRow) -> Result<Option<AiOffNotice>, StoreError> {
    let (Some(at), Some(reason)) = (at, reason) else {
        return Ok(None);
    };
    Ok(Some(AiOffNotice {
        heartbeat: HeartbeatId::from_uuid(id),
        name,
        at,
        reason: AiOffReason::stored(&reason)?,
    }))
}

/// The team's heartbeats that carry such a notice, newest first.
pub async fn off_notices(
    conn: &mut PgConn,
    scope: &TeamScope,
) -> Result<Vec<AiOffNotice>, StoreError> {
    let rows: Vec<NoticeRow> = hb::table
        .filter(hb::team_id.eq(scope.team_id().as_uuid()))
        .filter(hb::ai_off_at.is_not_null())
        .order((hb::ai_off_at.desc(), hb::name))
        .select((hb::id, hb::name, hb::ai_off_at, hb::ai_off_reason))
        .load(conn)
        .await?;
    let mut notices = Vec::with_capacity(rows.len());
    for row in rows {
        notices.extend(notice_of(row)?);
    }
    Ok(notices)
}

/// One heartbeat's notice, if it has one.
pub async fn off_notice(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: HeartbeatId,
) -> Result<Option<AiOffNotice>, StoreError> {
    let row: NoticeRow = hb::table
        .filter(hb::team_id.eq(scope.team_id().as_uuid()))
        .filter(hb::id.eq(id.as_uuid()))
        .select((hb::id, hb::name, hb::ai_off_at, hb::ai_off_reason))
        .first(conn)
        .await?;
    notice_of(row)
}

/// What an AI heartbeat has to learn from, within the plan's history: when its first kept ping
/// came, and how many finished runs (success and failure pings) are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, QueryableByName)]
pub struct LearningHistory {
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub first_ping_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = BigInt)]
    pub finished: i64,
}

pub async fn learning_history(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: HeartbeatId,
) -> Result<LearningHistory, StoreError> {
    Ok(diesel::sql_query(
        "SELECT min(received_at) AS first_ping_at, \
                count(*) FILTER (WHERE kind IN ('success', 'fail')) AS finished \
         FROM pings WHERE team_id = $1 AND heartbeat_id = $2 AND received_at >= $3",
    )
    .bind::<SqlUuid, _>(scope.team_id().as_uuid())
    .bind::<SqlUuid, _>(id.as_uuid())
    .bind::<Timestamptz, _>(scope.plan().retention_cutoff(Utc::now()))
    .get_result(conn)
    .await?)
}

/// The newest success pings of a heartbeat in `[from, to)`, at most `limit`, oldest first: the
/// pings after which the dashboard draws the window the model expects the next one in.
pub async fn recent_successes(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: HeartbeatId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DateTime<Utc>>, StoreError> {
    let mut newest_first: Vec<DateTime<Utc>> = crate::pings::visible(scope, id)
        .filter(pings::kind.eq("success"))
        .filter(pings::received_at.ge(from))
        .filter(pings::received_at.lt(to))
        .order(pings::received_at.desc())
        .limit(limit.max(0))
        .select(pings::received_at)
        .load(conn)
        .await?;
    newest_first.reverse();
    Ok(newest_first)
}

/// An early warning of an AI heartbeat, with the team's feedback on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub id: IncidentId,
    pub reason: String,
    pub opened_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// When someone marked it expected, and their email (if they still have an account).
    pub marked_expected_at: Option<DateTime<Utc>>,
    pub marked_expected_by: Option<String>,
}

type WarningRow = (
    uuid::Uuid,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<String>,
);

/// The heartbeat's newest early warnings, at most `limit`: open ones always, closed ones within
/// the plan's history.
pub async fn warnings(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: HeartbeatId,
    limit: i64,
) -> Result<Vec<Warning>, StoreError> {
    let cutoff = scope.plan().retention_cutoff(Utc::now());
    let rows: Vec<WarningRow> = incidents::table
        .left_join(users::table.on(users::id.nullable().eq(incidents::marked_expected_by)))
        .filter(incidents::team_id.eq(scope.team_id().as_uuid()))
        .filter(incidents::heartbeat_id.eq(id.as_uuid()))
        .filter(incidents::kind.eq(IncidentKind::EarlyWarning.as_str()))
        .filter(
            incidents::resolved_at
                .is_null()
                .or(incidents::opened_at.ge(cutoff)),
        )
        .order((incidents::opened_at.desc(), incidents::id))
        .limit(limit)
        .select((
            incidents::id,
            incidents::reason,
            incidents::opened_at,
            incidents::resolved_at,
            incidents::marked_expected_at,
            users::email.nullable(),
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, reason, opened_at, resolved_at, marked_at, by)| Warning {
                id: IncidentId::from_uuid(id),
                reason,
                opened_at,
                resolved_at,
                marked_expected_at: marked_at,
                marked_expected_by: by,
            },
        )
        .collect())
}

/// The team says an early warning of its heartbeat was expected: the model is to learn that
/// pattern instead of warning about it, so an AI heartbeat is queued for retraining now. Marking
/// one already marked changes nothing (the first mark stands) and returns false. Another
/// heartbeat's incident, a `down` incident or another team's are not found.
pub async fn mark_expected(
    conn: &mut PgConn,
    scope: &TeamScope,
    heartbeat: HeartbeatId,
    incident: IncidentId,
    by: Option<UserId>,
) -> Result<bool, StoreError> {
    let team = scope.team_id().as_uuid();
    conn.transaction::<_, StoreError, _>(async move |conn| {
        let marked_before: Option<DateTime<Utc>> = incidents::table
            .filter(incidents::team_id.eq(team))
            .filter(incidents::heartbeat_id.eq(heartbeat.as_uuid()))
            .filter(incidents::id.eq(incident.as_uuid()))
            .filter(incidents::kind.eq(IncidentKind::EarlyWarning.as_str()))
            .select(incidents::marked_expected_at)
            .for_no_key_update()
            .first(conn)
            .await?;
        if marked_before.is_some() {
            return Ok(false);
        }
        diesel::update(incidents::table.find(incident.as_uuid()))
            .set((
                incidents::marked_expected_at.eq(diesel::dsl::now),
                incidents::marked_expected_by.eq(by.map(|u| u.as_uuid())),
            ))
            .execute(conn)
            .await?;
        // `model_due_at` stays NULL in fixed mode: only the analyzer's AI heartbeats retrain.
        diesel::update(
            hb::table
                .filter(hb::team_id.eq(team))
                .filter(hb::id.eq(heartbeat.as_uuid()))
                .filter(hb::mode.eq(HeartbeatMode::Ai.as_str())),
        )
        .set(hb::model_due_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
        Ok(true)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_names_the_plans_that_have_ai_and_the_one_that_does_not() {
        let refused = refused_on(Plan::Standard).to_string();
        assert_eq!(
            refused,
            "AI heartbeats are part of Premium and Enterprise: the Standard plan does not include them"
        );
        assert!(matches!(refused_on(Plan::Free), StoreError::PlanLimit(_)));
    }

    #[test]
    fn reasons_read_back_what_they_store() {
        let reason = AiOffReason::PlanDowngrade;
        assert_eq!(AiOffReason::stored(reason.as_str()).ok(), Some(reason));
        assert!(AiOffReason::stored("bored").is_err());
    }
}
