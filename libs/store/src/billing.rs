//! The one place a team's plan changes, whoever changes it: a Stripe event (through the billing
//! service), the end of a paid period (a scheduled downgrade or cancellation), or the operator.
//! Each change locks the team row, applies the domain's decision (`lifeline_domain::billing`),
//! turns AI heartbeats back to fixed mode when the plan has none (`ai::follow_plan`), and
//! records the change in `audit_log` with its cause — all in one transaction.
//!
//! Stripe events are processed once: the event id goes into `stripe_events` in the same
//! transaction as its effect, so a replay (even after later events) finds it and changes nothing.
//! A subscription state applies only if its event was created after the last one applied
//! (`teams.subscription_state_at`): Stripe does not promise order.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use lifeline_domain::billing::{is_newer, plan_change};
use lifeline_domain::{HeartbeatId, Plan, Role, Subscription, TeamId};
use serde_json::json;

use crate::audit::{Actor, record_for_team};
use crate::decisions::{Transitions, committed};
use crate::label::stored;
use crate::schema::{memberships, stripe_events, teams, users};
use crate::{PgConn, StoreError};

/// Why a plan changed, as the audit log records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cause {
    /// A Stripe event, by id.
    Event(String),
    /// The paid period ended with a change scheduled for then.
    PeriodEnd,
    Operator,
}

impl Cause {
    fn actor(&self) -> Actor {
        match self {
            Cause::Operator => Actor::Operator,
            Cause::Event(_) | Cause::PeriodEnd => Actor::System,
        }
    }

    fn detail(&self) -> serde_json::Value {
        match self {
            Cause::Event(id) => json!({ "stripe_event": id }),
            Cause::PeriodEnd => json!({ "period_end": true }),
            Cause::Operator => json!({ "operator": true }),
        }
    }
}

/// A plan that changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanChanged {
    pub team: TeamId,
    pub from: Plan,
    pub to: Plan,
    /// AI heartbeats turned back to fixed mode (their deadlines may have moved earlier: the
    /// caller wakes the scheduler).
    pub ai_turned_off: Vec<HeartbeatId>,
}

/// What a Stripe event did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventOutcome {
    Applied(Option<PlanChanged>),
    /// Processed before: nothing changed.
    Replayed,
    /// Older than the subscription state already applied: recorded, nothing changed.
    Stale,
    /// No team has this customer or subscription (or the checkout named no team).
    UnknownTeam,
}

/// The signed event's identity: its id, type and `created` time.
#[derive(Clone, Debug)]
pub struct EventRef<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub created: DateTime<Utc>,
}

/// The team's plan and the `created` time of the last subscription state applied, its row
/// locked until the transaction ends.
async fn lock_plan(
    conn: &mut PgConn,
    team: TeamId,
) -> Result<(Plan, Option<DateTime<Utc>>), StoreError> {
    let (plan, applied): (String, Option<DateTime<Utc>>) = teams::table
        .find(team.as_uuid())
        .select((teams::plan, teams::subscription_state_at))
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or(StoreError::NotFound)?;
    Ok((stored(&plan)?, applied))
}

/// Moves a locked team from `from` to `to` (nothing when they are equal), inside the caller's
/// transaction.
async fn move_plan(
    conn: &mut PgConn,
    team: TeamId,
    from: Plan,
    to: Plan,
    cause: &Cause,
) -> Result<(Option<PlanChanged>, Transitions), StoreError> {
    if from == to {
        return Ok((None, Transitions::default()));
    }
    diesel::update(teams::table.find(team.as_uuid()))
        .set(teams::plan.eq(to.as_str()))
        .execute(conn)
        .await?;
    let (ai_turned_off, transitions) = crate::ai::follow_plan(conn, team, to).await?;
    let mut detail = cause.detail();
    detail["from"] = json!(from);
    detail["to"] = json!(to);
    record_for_team(
        conn,
        team,
        cause.actor(),
        "team.plan",
        &team.to_string(),
        detail,
    )
    .await?;
    Ok((
        Some(PlanChanged {
            team,
            from,
            to,
            ai_turned_off,
        }),
        transitions,
    ))
}

/// The operator sets a plan (the only way to Enterprise). A change Stripe scheduled for the end
/// of the period is dropped: the operator's word is the latest.
pub async fn set_plan_by_operator(
    conn: &mut PgConn,
    team: TeamId,
    plan: Plan,
) -> Result<Option<PlanChanged>, StoreError> {
    conn.transaction::<_, StoreError, _>(async move |conn| {
        let (from, _) = lock_plan(conn, team).await?;
        diesel::update(teams::table.find(team.as_uuid()))
            .set((
                teams::next_plan.eq(None::<String>),
                teams::plan_ends_at.eq(None::<DateTime<Utc>>),
            ))
            .execute(conn)
            .await?;
        move_plan(conn, team, from, plan, &Cause::Operator).await
    })
    .await
    .map(committed)
}

/// Records the event as processed; false when it already was.
async fn claim_event(
    conn: &mut PgConn,
    event: &EventRef<'_>,
    team: Option<TeamId>,
) -> Result<bool, StoreError> {
    let n = diesel::insert_into(stripe_events::table)
        .values((
            stripe_events::id.eq(event.id),
            stripe_events::kind.eq(event.kind),
            stripe_events::team_id.eq(team.map(|t| t.as_uuid())),
            stripe_events::created_at.eq(event.created),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// The team with this Stripe subscription, else with this customer.
async fn team_of(
    conn: &mut PgConn,
    customer: Option<&str>,
    subscription: Option<&str>,
) -> Result<Option<TeamId>, StoreError> {
    let mut found = None;
    if let Some(subscription) = subscription {
        found = teams::table
            .filter(teams::stripe_subscription_id.eq(subscription))
            .select(teams::id)
            .first::<uuid::Uuid>(conn)
            .await
            .optional()?;
    }
    if found.is_none()
        && let Some(customer) = customer
    {
        found = teams::table
            .filter(teams::stripe_customer_id.eq(customer))
            .select(teams::id)
            .first::<uuid::Uuid>(conn)
            .await
            .optional()?;
    }
    Ok(found.map(TeamId::from_uuid))
}

/// `checkout.session.completed`: links the Stripe customer and subscription to the team the
/// checkout named (`client_reference_id`). The plan itself follows the subscription's events.
pub async fn link_checkout(
    conn: &mut PgConn,
    event: &EventRef<'_>,
    team: TeamId,
    customer: &str,
    subscription: Option<&str>,
) -> Result<EventOutcome, StoreError> {
    let event = event.clone();
    let (customer, subscription) = (customer.to_owned(), subscription.map(str::to_owned));
    conn.transaction::<_, StoreError, _>(async move |conn| {
        let exists = teams::table
            .find(team.as_uuid())
            .select(teams::id)
            .for_update()
            .first::<uuid::Uuid>(conn)
            .await
            .optional()?
            .is_some();
        if !claim_event(conn, &event, exists.then_some(team)).await? {
            return Ok(EventOutcome::Replayed);
        }
        if !exists {
            return Ok(EventOutcome::UnknownTeam);
        }
        diesel::update(teams::table.find(team.as_uuid()))
            .set((
                teams::stripe_customer_id.eq(&customer),
                teams::stripe_subscription_id.eq(&subscription),
            ))
            .execute(conn)
            .await?;
        let detail = json!({
            "stripe_event": event.id,
            "customer": customer,
            "subscription": subscription,
        });
        record_for_team(
            conn,
            team,
            Actor::System,
            "billing.link",
            &team.to_string(),
            detail,
        )
        .await?;
        Ok(EventOutcome::Applied(None))
    })
    .await
}

/// `customer.subscription.created/updated/deleted`: the subscription's state as the event
/// shows it (`None`: deleted), applied if newer than the last one applied.
pub async fn apply_subscription(
    conn: &mut PgConn,
    event: &EventRef<'_>,
    customer: &str,
    subscription_id: &str,
    state: Option<Subscription>,
) -> Result<EventOutcome, StoreError> {
    let event = event.clone();
    let (customer, subscription_id) = (customer.to_owned(), subscription_id.to_owned());
    conn.transaction::<_, StoreError, _>(async move |conn| {
        let team = team_of(conn, Some(&customer), Some(&subscription_id)).await?;
        if !claim_event(conn, &event, team).await? {
            return Ok((EventOutcome::Replayed, Transitions::default()));
        }
        let Some(team) = team else {
            return Ok((EventOutcome::UnknownTeam, Transitions::default()));
        };
        let (current, applied) = lock_plan(conn, team).await?;
        if !is_newer(applied, event.created) {
            return Ok((EventOutcome::Stale, Transitions::default()));
        }
        let change = plan_change(current, state.as_ref());
        diesel::update(teams::table.find(team.as_uuid()))
            .set((
                teams::subscription_state_at.eq(event.created),
                teams::stripe_customer_id.eq(&customer),
                // A deleted subscription is no longer the team's.
                teams::stripe_subscription_id.eq(state.map(|_| subscription_id.clone())),
                teams::next_plan.eq(change.next.map(|n| n.plan.as_str())),
                teams::plan_ends_at.eq(change.next.map(|n| n.at)),
            ))
            .execute(conn)
            .await?;
        let cause = Cause::Event(event.id.to_owned());
        if let Some(next) = change.next {
            let detail = json!({
                "stripe_event": event.id,
                "plan": next.plan,
                "at": next.at,
            });
            record_for_team(
                conn,
                team,
                Actor::System,
                "team.plan_scheduled",
                &team.to_string(),
                detail,
            )
            .await?;
        }
        let (changed, transitions) = match change.now {
            Some(to) => move_plan(conn, team, current, to, &cause).await?,
            None => (None, Transitions::default()),
        };
        Ok((EventOutcome::Applied(changed), transitions))
    })
    .await
    .map(committed)
}

/// `invoice.paid` (`failed` false) and `invoice.payment_failed`: the payment-failure banner
/// is set by a failure and cleared by a payment.
pub async fn record_payment(
    conn: &mut PgConn,
    event: &EventRef<'_>,
    customer: &str,
    failed: bool,
) -> Result<EventOutcome, StoreError> {
    let event = event.clone();
    let customer = customer.to_owned();
    conn.transaction::<_, StoreError, _>(async move |conn| {
        let team = team_of(conn, Some(&customer), None).await?;
        if !claim_event(conn, &event, team).await? {
            return Ok(EventOutcome::Replayed);
        }
        let Some(team) = team else {
            return Ok(EventOutcome::UnknownTeam);
        };
        diesel::update(teams::table.find(team.as_uuid()))
            .set(teams::payment_failed_at.eq(failed.then_some(event.created)))
            .execute(conn)
            .await?;
        let action = if failed {
            "billing.payment_failed"
        } else {
            "billing.paid"
        };
        let detail = json!({ "stripe_event": event.id });
        record_for_team(conn, team, Actor::System, action, &team.to_string(), detail).await?;
        Ok(EventOutcome::Applied(None))
    })
    .await
}

/// What one [`apply_due`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Due {
    /// Teams whose period had ended (at most the limit: fewer means none is left).
    pub teams: usize,
    /// The plans that changed (a team may have had nothing scheduled but the period's end).
    pub changed: Vec<PlanChanged>,
}

/// Applies the changes scheduled for the end of a paid period that has ended by `now`, at most
/// `limit` teams at a time (the billing service's loop).
pub async fn apply_due(
    conn: &mut PgConn,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Due, StoreError> {
    conn.transaction::<_, StoreError, _>(async move |conn| {
        let due: Vec<(uuid::Uuid, String, Option<String>)> = teams::table
            .filter(teams::plan_ends_at.le(now))
            .order(teams::plan_ends_at)
            .limit(limit)
            .select((teams::id, teams::plan, teams::next_plan))
            .for_update()
            .skip_locked()
            .load(conn)
            .await?;
        let teams = due.len();
        let mut changed = Vec::new();
        let mut transitions = Transitions::default();
        for (id, plan, next) in due {
            let team = TeamId::from_uuid(id);
            diesel::update(teams::table.find(id))
                .set((
                    teams::next_plan.eq(None::<String>),
                    teams::plan_ends_at.eq(None::<DateTime<Utc>>),
                ))
                .execute(conn)
                .await?;
            let Some(next) = next else { continue };
            let (from, to): (Plan, Plan) = (stored(&plan)?, stored(&next)?);
            let (moved, changes) = move_plan(conn, team, from, to, &Cause::PeriodEnd).await?;
            changed.extend(moved);
            transitions.extend(changes);
        }
        Ok((Due { teams, changed }, transitions))
    })
    .await
    .map(committed)
}

/// The team's billing state, for the billing page and `lifeline admin team show`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BillingState {
    pub plan: Plan,
    pub next_plan: Option<Plan>,
    pub plan_ends_at: Option<DateTime<Utc>>,
    pub stripe_customer: Option<String>,
    pub stripe_subscription: Option<String>,
    pub payment_failed_at: Option<DateTime<Utc>>,
}

/// The billing state of a member's team (the dashboard's billing page).
pub async fn state_of(
    conn: &mut PgConn,
    scope: &crate::TeamScope,
) -> Result<BillingState, StoreError> {
    state(conn, scope.team_id()).await
}

/// The billing state of any team: for the operator and the billing service, which act for the
/// installation rather than a member.
pub async fn state(conn: &mut PgConn, team: TeamId) -> Result<BillingState, StoreError> {
    type Row = (
        String,
        Option<String>,
        Option<DateTime<Utc>>,
        Option<String>,
        Option<String>,
        Option<DateTime<Utc>>,
    );
    let (plan, next, ends, customer, subscription, failed): Row = teams::table
        .find(team.as_uuid())
        .select((
            teams::plan,
            teams::next_plan,
            teams::plan_ends_at,
            teams::stripe_customer_id,
            teams::stripe_subscription_id,
            teams::payment_failed_at,
        ))
        .first(conn)
        .await
        .optional()?
        .ok_or(StoreError::NotFound)?;
    Ok(BillingState {
        plan: stored(&plan)?,
        next_plan: next.as_deref().map(stored).transpose()?,
        plan_ends_at: ends,
        stripe_customer: customer,
        stripe_subscription: subscription,
        payment_failed_at: failed,
    })
}

/// Who hears that a customer's payment failed: its team, the team's name and plan, and the
/// owners' addresses. `None` when no team has this customer.
pub async fn payment_contacts(
    conn: &mut PgConn,
    customer: &str,
) -> Result<Option<PaymentContacts>, StoreError> {
    let Some(team) = team_of(conn, Some(customer), None).await? else {
        return Ok(None);
    };
    let (name, plan): (String, String) = teams::table
        .find(team.as_uuid())
        .select((teams::name, teams::plan))
        .first(conn)
        .await?;
    Ok(Some(PaymentContacts {
        team,
        name,
        plan: stored(&plan)?,
        owners: owner_emails(conn, team).await?,
    }))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentContacts {
    pub team: TeamId,
    pub name: String,
    pub plan: Plan,
    pub owners: Vec<String>,
}

/// The owners' addresses, for the payment-failure email.
pub async fn owner_emails(conn: &mut PgConn, team: TeamId) -> Result<Vec<String>, StoreError> {
    Ok(memberships::table
        .inner_join(users::table)
        .filter(memberships::team_id.eq(team.as_uuid()))
        .filter(memberships::role.eq(Role::Owner.as_str()))
        .order(users::email)
        .select(users::email)
        .load(conn)
        .await?)
}

/// The installation's billing key: the secret the dashboard presents to the billing service's
/// internal API. Made once (from `fresh`, by whichever service starts first) and kept in
/// Postgres, so every process of the installation shares it without configuration.
pub async fn service_key(conn: &mut PgConn, fresh: &str) -> Result<String, StoreError> {
    let key = crate::accounts::server_secret(conn, "billing", fresh.as_bytes()).await?;
    // Made from text (a random token), so it reads back as the same text.
    Ok(String::from_utf8_lossy(&key).into_owned())
}

/// How many teams have a plan change scheduled for the end of their period (for `/readyz`).
pub async fn due_count(conn: &mut PgConn) -> Result<i64, StoreError> {
    Ok(teams::table
        .filter(teams::plan_ends_at.is_not_null())
        .count()
        .get_result(conn)
        .await?)
}
