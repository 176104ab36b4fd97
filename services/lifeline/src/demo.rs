//! `lifeline demo`: a team, a user and a heartbeat to try Lifeline with. Idempotent: running it
//! again prints the same heartbeat.

use lifeline_domain::{Email, HeartbeatName, Plan, Role, Schedule, TeamName};
use lifeline_store::heartbeats::NewHeartbeat;
use lifeline_store::{TeamScope, heartbeats, teams, users};
use serde_json::json;

use crate::Settings;
use crate::admin::{announce_token, connect};
use crate::cli::Output;

const TEAM: &str = "Demo team";
const USER: &str = "demo@lifeline.local";
const HEARTBEAT: &str = "demo-job";

pub async fn run(settings: &Settings, output: Output) -> anyhow::Result<()> {
    let mut conn = connect(settings).await?;
    let team = match teams::find_by_name(&mut conn, TEAM).await? {
        Some(team) => team,
        None => teams::create(&mut conn, &TeamName::parse(TEAM)?, Plan::Premium).await?,
    };
    let user = users::find_or_create(&mut conn, &Email::parse(USER)?, "Demo user").await?;
    users::add_membership(&mut conn, team.id, user, Role::Owner).await?;
    let scope = TeamScope::for_operator(&mut conn, team.id).await?;
    let existing = heartbeats::list(&mut conn, &scope)
        .await?
        .into_iter()
        .find(|hb| hb.name == HEARTBEAT);
    let hb = match existing {
        Some(hb) => hb,
        None => {
            let new = NewHeartbeat::new(
                HeartbeatName::parse(HEARTBEAT)?,
                Schedule::from_secs(60, 30)?,
            );
            let hb = heartbeats::create(&mut conn, &scope, new).await?;
            announce_token(settings, &hb).await?;
            hb
        }
    };
    let url = hb.ping_url(&settings.public_url);
    if output.json {
        println!(
            "{}",
            json!({"team_id": team.id, "user": USER, "heartbeat_id": hb.id, "ping_url": url})
        );
    } else {
        println!("Demo heartbeat \"{HEARTBEAT}\" (team \"{TEAM}\", user {USER}):");
        println!("  ping URL: {url}");
        println!("  ping it:  curl -fsS -X POST {url}");
        println!("  it expects a ping every 60 s (grace 30 s).");
    }
    Ok(())
}
