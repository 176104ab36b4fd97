//! `admin team create|list|show|edit|delete|set-plan`.

use anyhow::anyhow;
use lifeline_domain::{Plan, TeamName, TimeZoneName};
use lifeline_store::audit::Actor;
use lifeline_store::teams::{self, TeamSummary};
use lifeline_store::{PgConn, TeamScope};
use serde_json::json;

use super::{Output, announce_gone, confirmed, record, scopes, time, wake_scheduler};
use crate::Settings;
use crate::cli::TeamCommand;

pub(super) async fn run(
    settings: &Settings,
    conn: &mut PgConn,
    command: TeamCommand,
) -> anyhow::Result<()> {
    match command {
        TeamCommand::Create { name, plan, output } => {
            let team = teams::create(conn, &TeamName::parse(&name)?, plan).await?;
            output.print(
                &json!({"id": team.id, "name": team.name, "plan": team.plan}),
                || {
                    format!(
                        "created team {} ({}, {} plan)",
                        team.id, team.name, team.plan
                    )
                },
            );
        }
        TeamCommand::List { output } => list(conn, output).await?,
        TeamCommand::Show { team, output } => {
            let scope = scopes::team(conn, &team, "TEAM").await?;
            show(conn, &scope, output).await?;
        }
        TeamCommand::Edit {
            team,
            name,
            time_zone,
            output,
        } => {
            let scope = scopes::team(conn, &team, "TEAM").await?;
            edit(conn, &scope, name, time_zone).await?;
            show(conn, &scope, output).await?;
        }
        TeamCommand::Delete {
            team,
            confirm,
            output,
        } => {
            let scope = scopes::team(conn, &team, "TEAM").await?;
            let team = teams::summary(conn, scope.team_id()).await?;
            confirmed(
                confirm,
                &format!(
                    "team {} ({:?}) with its {} heartbeat(s), {} member(s), channels and history",
                    team.id, team.name, team.heartbeats, team.members
                ),
            )?;
            delete(settings, conn, &scope, &team, output).await?;
        }
        TeamCommand::SetPlan { team, plan, output } => {
            let scope = scopes::team(conn, &team, "TEAM").await?;
            set_plan(settings, conn, &scope, plan, output).await?;
        }
        TeamCommand::Plan { team, plan, output } => {
            let scope = scopes::team(conn, &team, "--team").await?;
            set_plan(settings, conn, &scope, plan, output).await?;
        }
    }
    Ok(())
}

async fn list(conn: &mut PgConn, output: Output) -> anyhow::Result<()> {
    let all = teams::list_all(conn).await?;
    output.print(&json!({ "teams": all }), || {
        if all.is_empty() {
            return "no teams yet: `lifeline admin team create --name NAME` makes one".to_owned();
        }
        all.iter()
            .map(|t| {
                format!(
                    "{}  {}  ({} plan, {} heartbeat(s), {} member(s))",
                    t.team.id, t.team.name, t.team.plan, t.heartbeats, t.members
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

async fn show(conn: &mut PgConn, scope: &TeamScope, output: Output) -> anyhow::Result<()> {
    let id = scope.team_id();
    let team = teams::summary(conn, id)
        .await
        .map_err(|e| anyhow!("team {id}: {e}"))?;
    output.print(&json!(team), || described(&team));
    Ok(())
}

fn described(team: &TeamSummary) -> String {
    let mut text = format!(
        "team {} ({})\nplan: {}",
        team.id, team.name, team.billing.plan
    );
    if let (Some(next), Some(at)) = (team.billing.next_plan, team.billing.plan_ends_at) {
        text.push_str(&format!(" until {}, then {next}", time(at)));
    }
    let customer = team.billing.stripe_customer.as_deref().unwrap_or("none");
    text.push_str(&format!("\nstripe customer: {customer}"));
    if let Some(failed) = team.billing.payment_failed_at {
        text.push_str(&format!("\npayment failed: {}", time(failed)));
    }
    text.push_str(&format!(
        "\ntime zone: {}\nheartbeats: {}\nmembers: {}",
        team.time_zone, team.heartbeats, team.members
    ));
    text
}

/// A new name and/or time zone, each recorded as the dashboard records it.
async fn edit(
    conn: &mut PgConn,
    scope: &TeamScope,
    name: Option<String>,
    time_zone: Option<TimeZoneName>,
) -> anyhow::Result<()> {
    let id = scope.team_id();
    if let Some(name) = name {
        let name = TeamName::parse(&name).map_err(|e| anyhow!("--name: {e}"))?;
        let old = teams::rename(conn, scope, &name).await?;
        let detail = json!({ "from": old, "to": name.as_str() });
        record(conn, scope, "team.rename", id, detail).await?;
    }
    if let Some(zone) = time_zone {
        let old = teams::set_time_zone(conn, scope, zone).await?;
        let detail = json!({ "from": old, "to": zone.as_str() });
        record(conn, scope, "team.time_zone", id, detail).await?;
    }
    Ok(())
}

/// Deletes the team; its heartbeats' ping URLs stop working everywhere, as when the dashboard
/// deletes it.
async fn delete(
    settings: &Settings,
    conn: &mut PgConn,
    scope: &TeamScope,
    team: &TeamSummary,
    output: Output,
) -> anyhow::Result<()> {
    // The store records the deletion outside the team: the team's own log goes with it.
    let hashes = teams::delete(conn, scope, Actor::Operator).await?;
    let heartbeats = hashes.len();
    announce_gone(settings, hashes).await;
    // Deleting the team does not talk to Stripe: a paid subscription would go on billing.
    if let Some(subscription) = &team.billing.stripe_subscription {
        eprintln!(
            "lifeline: warning: the team's Stripe subscription {subscription} is not cancelled \
             by this: cancel it in Stripe"
        );
    }
    output.print(
        &json!({
            "id": team.id,
            "name": team.name,
            "deleted": true,
            "heartbeats": heartbeats,
        }),
        || {
            format!(
                "deleted team {} ({}) and its {heartbeats} heartbeat(s); their ping URLs no \
                 longer work",
                team.id, team.name
            )
        },
    );
    Ok(())
}

/// `team set-plan` (and its older spelling `team plan --team`).
async fn set_plan(
    settings: &Settings,
    conn: &mut PgConn,
    scope: &TeamScope,
    plan: Plan,
    output: Output,
) -> anyhow::Result<()> {
    let team = scope.team_id();
    let changed = lifeline_store::billing::set_plan_by_operator(conn, team, plan)
        .await
        .map_err(|e| anyhow!("team {team}: {e}"))?;
    let previous = changed.as_ref().map_or(plan, |c| c.from);
    let ai_turned_off = changed.map(|c| c.ai_turned_off).unwrap_or_default();
    // AI heartbeats the new plan does not include are back on fixed deadlines.
    if !ai_turned_off.is_empty() {
        wake_scheduler(settings).await;
    }
    output.print(
        &json!({
            "id": team,
            "plan": plan,
            "previous_plan": previous,
            "ai_turned_off": ai_turned_off,
        }),
        || {
            let mut text = format!("team {team} is now on the {plan} plan (was {previous})");
            if !ai_turned_off.is_empty() {
                text.push_str(&format!(
                    "; {} AI heartbeat(s) back on their fixed interval + grace",
                    ai_turned_off.len()
                ));
            }
            text
        },
    );
    Ok(())
}
